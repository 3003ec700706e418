/**
 * Errors the harness raises on bad input: a malformed file, a wrong kit reply, a certificate that does
 * not fit a template. Each names WHAT is wrong and WHERE (a file, a path inside it, a byte offset, a
 * port), so a QA engineer can act on the one line the CLI prints without reading a stack trace.
 */
export class ZtError extends Error {
  /** Where the problem is: a file path, "file: path.inside", "pcap offset 1234", "HID report 3". */
  readonly where: string;
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;

  constructor(where: string, message: string, options?: { exitCode?: number; cause?: unknown }) {
    super(where ? `${where}: ${message}` : message, options?.cause ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.where = where;
    this.exitCode = options?.exitCode ?? 2;
  }
}

/** A lab or budget file that cannot be used. */
export class ConfigError extends ZtError {}

/** A certificate, key or CSR that cannot be read or does not satisfy what the kit requires. */
export class CertificateError extends ZtError {}

/** Render any thrown value as one line for a CLI or a report, without a stack trace. */
export function oneLine(err: unknown): string {
  if (err instanceof Error) return err.message.replace(/\s*\n\s*/g, " ");
  return String(err);
}
