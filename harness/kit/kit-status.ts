/**
 * The kit's status as getStatus answers it, with names instead of numbers: the AWS_STATE_* values of
 * firmware v2.2.5's aws_status.h (enum aws_iot_state) and the status codes a spec meets. v2.2.5 answers
 * getStatus with the status it has just overwritten (provisioning_task.c: aws_iot_get_status), so a
 * v2.2.5 kit always says `atecc-configure`, `success` — a spec names that, it does not infer a state.
 */
import type { KitClient } from "./kit-client.ts";
import { KitProtocolError } from "./kit-client.ts";

export const KIT_STATES = [
  "unknown",
  "atecc-detect",
  "atecc-preconfigure",
  "atecc-init",
  "atecc-configure",
  "atecc-provisioned",
  "atecc-provision-reset",
  "winc-init",
  "wifi-configure",
  "wifi-disconnect",
  "aws-connect",
  "aws-connecting",
  "aws-connected",
  "aws-subscription",
  "aws-reporting",
  "aws-disconnect",
] as const;
export type KitState = (typeof KIT_STATES)[number];

/** aws_status.h's AWS_STATUS_* values that getStatus or a failing method can carry. */
export const KIT_STATUS_CODES: Record<number, string> = {
  0: "success",
  2: "unknown-command",
  258: "atecc-init-failure",
  260: "atecc-comm-failure",
  1026: "subscription-failure",
  1027: "report-failure",
};

export interface KitStatus {
  state: KitState;
  status: string;
  message: string;
  /** The numbers as the kit sent them. */
  raw: { state_id: number; status_code: number; status_msg: string };
}

export function namedStatus(raw: { state_id?: unknown; status_code?: unknown; status_msg?: unknown }): KitStatus {
  const { state_id, status_code, status_msg } = raw;
  if (typeof state_id !== "number" || typeof status_code !== "number" || typeof status_msg !== "string") throw new KitProtocolError("kit app getStatus", `not a status: ${JSON.stringify(raw).slice(0, 120)}`);
  const state = KIT_STATES[state_id];
  if (!state) throw new KitProtocolError("kit app getStatus", `state_id ${state_id} is no AWS_STATE_* of firmware v2.2.5`);
  return { state, status: KIT_STATUS_CODES[status_code] ?? `code ${status_code}`, message: status_msg, raw: { state_id, status_code, status_msg } };
}

export async function getStatus(kit: KitClient, timeoutMs?: number): Promise<KitStatus> {
  return namedStatus(await kit.app("getStatus", {}, timeoutMs));
}
