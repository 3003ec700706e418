/**
 * `expect(summary).toMeetBudget(budget)`: names the operation and each statistic over budget. Every
 * summary held against a budget is also a measurement of the test (the trend history keeps them):
 * takeMeasurements() hands a test's over to the fixture that attaches them.
 */
import { expect as base, test } from "@playwright/test";
import type { Budget } from "../config/budget-schema.ts";
import { budgetFailures, type Summary } from "./stats.ts";
import { measurementOf, type Measurement } from "./trends.ts";

const measured = new Map<string, Measurement[]>();

/** The measurements a test has held against budgets so far, forgotten here once taken. */
export function takeMeasurements(testId: string): Measurement[] {
  const out = measured.get(testId) ?? [];
  measured.delete(testId);
  return out;
}

export const expect = base.extend({
  toMeetBudget(this: { isNot: boolean }, received: Summary, budget: Budget | undefined) {
    const id = test.info().testId;
    measured.set(id, [...(measured.get(id) ?? []), measurementOf(received, budget)]);
    const failures = budgetFailures(received, budget);
    return {
      pass: failures.length === 0,
      name: "toMeetBudget",
      message: () => (this.isNot ? `${received.name}: expected to exceed its budget, but it met it` : failures.join("\n")),
    };
  },
});
