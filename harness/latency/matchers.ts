/** `expect(summary).toMeetBudget(budget)`: names the operation and each statistic over budget. */
import { expect as base } from "@playwright/test";
import type { Budget } from "../config/budget-schema.ts";
import { budgetFailures, type Summary } from "./stats.ts";

export const expect = base.extend({
  toMeetBudget(this: { isNot: boolean }, received: Summary, budget: Budget | undefined) {
    const failures = budgetFailures(received, budget);
    return {
      pass: failures.length === 0,
      name: "toMeetBudget",
      message: () => (this.isNot ? `${received.name}: expected to exceed its budget, but it met it` : failures.join("\n")),
    };
  },
});
