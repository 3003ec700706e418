/**
 * Every driver action is a logged step (labgrid's way), so a report narrates the run: inside a test it
 * is a Playwright test.step; outside one (worker fixtures, scripts) it is a timestamped log line.
 */
import { test } from "@playwright/test";

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
