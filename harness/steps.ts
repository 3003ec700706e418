/**
 * Every driver action is a logged step (labgrid's way), so a report narrates the run: inside a test it
 * is a Playwright test.step; outside one (worker fixtures, scripts) it is a timestamped log line.
 *
 * A wait that fails is a failing step whose error leads with the evidence, not with the timeout:
 * `waitStep` asks the test's diagnoser (set by the capture fixture: the verdict of the kit's last TLS
 * connection and what the cloud refused) and puts its answer first, the waited-for thing after.
 */
import { test } from "@playwright/test";
import { InfrastructureError } from "./errors.ts";

export type StepRunner = <T>(title: string, body: () => Promise<T>) => Promise<T>;

function insideTest(): boolean {
  try {
    test.info();
    return true;
  } catch {
    return false;
  }
}

export const step: StepRunner = (title, body) => {
  if (insideTest()) return test.step(title, body, { box: true });
  process.stderr.write(`[zt-hil ${new Date().toISOString()}] ${title}\n`);
  return body();
};

/** The evidence of the running test, in one line; null when there is none. Never throws. */
export type Diagnoser = () => Promise<string | null>;

let diagnoser: Diagnoser | null = null;

/** Set the running test's diagnoser; the returned function clears it (tests of a worker run one at a time). */
export function diagnoseWith(d: Diagnoser): () => void {
  diagnoser = d;
  return () => {
    if (diagnoser === d) diagnoser = null;
  };
}

/** The running test's diagnosis, or null. */
export async function diagnosis(): Promise<string | null> {
  try {
    return (await diagnoser?.()) ?? null;
  } catch (err) {
    return `(no diagnosis: ${(err as Error).message})`;
  }
}

/** An error whose message leads with the diagnosis; `cause` is what the wait itself reported. */
export class DiagnosedError extends Error {
  constructor(diagnosis: string, cause: Error) {
    super(`${diagnosis}\n    while waiting: ${cause.message}`, { cause });
    this.name = "DiagnosedError";
  }
}

/** A step that waits for the kit or the cloud; on failure its error leads with the test's diagnosis. */
export const waitStep: StepRunner = (title, body) =>
  step(title, async () => {
    try {
      return await body();
    } catch (err) {
      if (err instanceof InfrastructureError || !(err instanceof Error)) throw err;
      const d = await diagnosis();
      throw d ? new DiagnosedError(d, err) : err;
    }
  });
