/**
 * getStatus with names: the numbers of firmware v2.2.5's aws_status.h, and a clear error for a reply
 * that is no status. The twin's STATE table and the harness's names must agree value for value.
 */
import { expect, test } from "@playwright/test";
import { STATE } from "../../rigs/virtual-kit/firmware/app.ts";
import { KIT_STATES, namedStatus } from "./kit-status.ts";

test("state ids read as aws_status.h's states; v2.2.5's constant answer is atecc-configure, success", () => {
  expect(namedStatus({ state_id: 4, status_code: 0, status_msg: "The AWS IoT Demo successfully returned the current status inform" })).toMatchObject({ state: "atecc-configure", status: "success" });
  expect(namedStatus({ state_id: 13, status_code: 1026, status_msg: "x" })).toMatchObject({ state: "aws-subscription", status: "subscription-failure" });
  expect(namedStatus({ state_id: 0, status_code: 77, status_msg: "" }).status).toBe("code 77");
  expect(() => namedStatus({ state_id: 16, status_code: 0, status_msg: "" })).toThrow(/state_id 16 is no AWS_STATE_\* of firmware v2\.2\.5/);
  expect(() => namedStatus({ state_id: "4" })).toThrow(/kit app getStatus: not a status/);
  // Same numbers as the twin's port of aws_status.h.
  expect(Object.values(STATE)).toEqual(KIT_STATES.map((_, i) => i));
  expect(Object.keys(STATE)).toHaveLength(KIT_STATES.length);
});
