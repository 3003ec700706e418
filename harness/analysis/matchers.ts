/**
 * Playwright matchers that read like the spec: `expect(conn).toNegotiate(0xc02b)`,
 * `toAuthenticateClient()`, `toOfferOnly([0xc02b])`, `toCompleteHandshake()`. A failure message names
 * the connection and every expectation that failed, as `zt-hil analyze --expect kit` does.
 */
import { expect as base } from "@playwright/test";
import type { ConnectionVerdict } from "../tls/verdict.ts";
import { clientAuthFailures, completionFailures, negotiationFailures, offerFailures } from "./expectations.ts";

function verdictMatcher<A extends unknown[]>(name: string, failuresOf: (c: ConnectionVerdict, ...args: A) => string[]) {
  return function (this: { isNot: boolean }, received: ConnectionVerdict, ...args: A) {
    const failures = failuresOf(received, ...args);
    const who = `connection ${received.client} → ${received.server}`;
    return {
      pass: failures.length === 0,
      name,
      message: () => (this.isNot ? `${who}: expected ${name} not to hold, but it does` : `${who}:\n  - ${failures.join("\n  - ")}`),
    };
  };
}

export const expect = base.extend({
  toNegotiate: verdictMatcher("toNegotiate", (c, suite: number, version?: string) => negotiationFailures(c, suite, version)),
  toAuthenticateClient: verdictMatcher("toAuthenticateClient", (c) => clientAuthFailures(c)),
  toOfferOnly: verdictMatcher("toOfferOnly", (c, suites: readonly number[]) => offerFailures(c, suites)),
  toCompleteHandshake: verdictMatcher("toCompleteHandshake", (c) => completionFailures(c)),
});
