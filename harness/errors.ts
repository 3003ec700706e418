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

/** The rig (or the lab around it) is unusable: not a verdict on the kit. Messages start "[infrastructure]"; CLI exit 3. */
export class InfrastructureError extends ZtError {
  constructor(where: string, message: string) {
    super(`[infrastructure] ${where}`, message, { exitCode: 3 });
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

const ERRNO_WORDS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EISDIR: "is a directory",
  ENOTDIR: "a part of the path is not a directory",
  EEXIST: "already exists",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
};

/** A file-system failure as one line naming the file, what was tried and the errno in words. */
export function fileError(file: string, action: string, err: unknown): ZtError {
  const code = (err as NodeJS.ErrnoException).code;
  const words = code ? `${ERRNO_WORDS[code] ?? "failed"} (${code})` : oneLine(err);
  return new ZtError(file, `cannot ${action}: ${words}`, { cause: err });
}
