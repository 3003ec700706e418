/**
 * The JSON application behind `b:app` (provisioning_task.c:kit_board_application and the
 * process_board_application_* methods of firmware v2.2.5), faithfully:
 * - parson parses the request (json_parse_string: the text must start with `{` or `[`; what follows the
 *   first value is ignored, which the firmware relies on: the hex tail after the binary stays in the
 *   buffer). Bad JSON, or no "method", falls into the "Unknown" branch (strcmp(NULL, …) in the source;
 *   on the SAM G55 that reads the boot vector table, not a string that matches) → error 2, `id` 0.
 * - `id` is (int)json_object_get_number: 0 when missing or not a number, truncated otherwise.
 * - No parameter is validated: a missing string is strlen(NULL) in the source — the twin treats it as
 *   an empty string [inferred: undefined behaviour on the real MCU]; an SSID or host name longer than its
 *   field runs into the next field (slot8.ts).
 * - Every method first sets the status global to CONFIGURE/SUCCESS/"…successfully…", and the reply's
 *   error is taken from that global: so getStatus always answers state 4, code 0 and its own message
 *   truncated to 64 characters (aws_status.c: strncpy into char[64]).
 * - saveCredentials and genKey/resetKit move the provisioning state; setWifi does not (no reconnect).
 * - The reply is serialized as parson does: compact, insertion order, integers with %d, only
 *   `"` `\` and \b \f \n \r \t escaped.
 */
import { assembleCsr, csrInfo } from "../../../harness/pki/atcacert/csr-template.ts";
import { createHash } from "node:crypto";
import type { FirmwareConsole } from "./console.ts";
import type { Cryptoauthlib } from "./cryptoauthlib.ts";
import { saveCertificates, SaveStepError, SLOT } from "./credentials.ts";
import { hexToBinary } from "./hex.ts";
import { AWS_PROVISIONED, Metadata, SLOT8_SIZE, WIFI_PROVISIONED } from "./slot8.ts";

/** aws_status.h. */
export const STATE = {
  unknown: 0,
  detect: 1,
  preconfigure: 2,
  init: 3,
  configure: 4,
  provisioned: 5,
  provisionReset: 6,
  wincInit: 7,
  wifiConfigure: 8,
  wifiDisconnect: 9,
  awsConnect: 10,
  awsConnecting: 11,
  awsConnected: 12,
  awsSubscription: 13,
  awsReporting: 14,
  awsDisconnect: 15,
} as const;

export const STATUS = { success: 0, unknownCommand: 2, ateccCommFailure: 260, ateccInitFailure: 258, subscriptionFailure: 1026, reportFailure: 1027 } as const;

/** g_aws_iot_status: one global both tasks and every app method overwrite. */
export class StatusGlobal {
  state: number = STATE.unknown;
  code = 0;
  message = "";
  set(state: number, code: number, message: string): void {
    this.state = state;
    this.code = code;
    this.message = message.slice(0, 64); // strncpy into char[64]: a longer message loses its tail and NUL
  }
}

export interface AppHost {
  cal: Cryptoauthlib;
  status: StatusGlobal;
  console: FirmwareConsole;
  /** g_provisioning_state = …. */
  setProvisioningState(state: number): void;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** json_parse_string: the first value of a text that starts with `{` or `[`; trailing bytes ignored. */
export function parsonParse(text: string): Json | null {
  const start = text.search(/\S/);
  if (start < 0 || (text[start] !== "{" && text[start] !== "[")) return null;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      if (--depth === 0) {
        try {
          return JSON.parse(text.slice(start, i + 1)) as Json;
        } catch {
          return null;
        }
      }
    }
  }
  return null;
}

export const isObject = (v: Json | undefined | null): v is { [k: string]: Json } => typeof v === "object" && v !== null && !Array.isArray(v);
const own = (o: { [k: string]: Json } | null, k: string): Json | undefined => (o && Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);
/** json_object_get_string: the string, or NULL. */
export const getString = (o: { [k: string]: Json } | null, k: string): string | null => {
  const v = own(o, k);
  return typeof v === "string" ? v : null;
};

/** parson's serializer for the reply objects the firmware builds. */
export function parsonSerialize(v: Json): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return Number.isInteger(v) ? String(v | 0) : String(v);
  if (typeof v === "string") return `"${v.replace(/["\\\b\f\n\r\t]/g, (c) => ({ '"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c]!)}"`;
  if (Array.isArray(v)) return `[${v.map(parsonSerialize).join(",")}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${parsonSerialize(k)}:${parsonSerialize(x)}`)
    .join(",")}}`;
}

/** (int) of a double, saturating as the Cortex-M4's conversion does. */
function toInt(n: number): number {
  if (!Number.isFinite(n)) return 0;
  return Math.max(-2147483648, Math.min(2147483647, Math.trunc(n)));
}

const hex = (b: Buffer) => b.toString("hex").toUpperCase();

export class Application {
  constructor(private readonly host: AppHost) {}

  private get status(): StatusGlobal {
    return this.host.status;
  }

  /** kit_board_application: JSON text in, JSON text out (always kit status 00). */
  async handle(text: Buffer): Promise<Buffer> {
    const { console } = this.host;
    await console.dumpMessage("Incoming AWS IoT Zero Touch command message:", text);
    const command = parsonParse(text.toString("latin1"));
    const cmd = isObject(command) ? command : null;
    const params = isObject(own(cmd, "params")) ? (own(cmd, "params") as { [k: string]: Json }) : null;
    const method = getString(cmd, "method");
    const idValue = own(cmd, "id");
    const id = typeof idValue === "number" ? toInt(idValue) : 0;
    const result: { [k: string]: Json } = {};
    switch (method) {
      case "init":
        await this.init(result);
        break;
      case "setWifi":
        await this.setWifi(params);
        break;
      case "getStatus":
        this.getStatus(result);
        break;
      case "genKey":
        await this.genKey(result);
        break;
      case "genCsr":
        await this.genCsr(result);
        break;
      case "saveCredentials":
        await this.saveCredentials(params);
        break;
      case "resetKit":
        await this.resetKit();
        break;
      default:
        this.status.set(STATE.configure, STATUS.unknownCommand, "Unknown AWS IoT Zero Touch command message.");
        await console.status("Unknown AWS IoT Zero Touch command message:", this.status);
    }
    const reply =
      this.status.code === STATUS.success
        ? { result, error: null, id }
        : { result: null, error: { error_code: this.status.code, error_msg: this.status.message }, id };
    const out = Buffer.from(parsonSerialize(reply), "latin1");
    await console.dumpMessage("Outgoing AWS IoT Zero Touch response message:", out);
    return out;
  }

  private async fail(state: number, message: string, title: string): Promise<void> {
    this.status.set(state, STATUS.ateccCommFailure, message);
    await this.host.console.status(title, this.status);
  }

  private async init(result: { [k: string]: Json }): Promise<void> {
    const { cal } = this.host;
    this.status.set(STATE.configure, STATUS.success, "The AWS IoT Demo successfully performed the initialization.");
    try {
      result.deviceSn = hex(await cal.serialNumber());
    } catch {
      return this.fail(STATE.configure, "The AWS IoT Demo failed to return the serial number.", "AWS IoT Zero Touch Demo init Message:");
    }
    try {
      result.devicePublicKey = hex(await cal.publicKey(SLOT.deviceKey));
    } catch {
      return this.fail(STATE.configure, "The AWS IoT Demo failed to return the device public key.", "AWS IoT Zero Touch Demo init Message:");
    }
  }

  private async setWifi(params: { [k: string]: Json } | null): Promise<void> {
    const { cal } = this.host;
    this.status.set(STATE.configure, STATUS.success, "The AWS IoT Demo successfully saved the WIFI credentials.");
    try {
      const m = new Metadata(await cal.readBytes(SLOT.metadata, SLOT8_SIZE));
      m.setSsid(Buffer.from(getString(params, "ssid") ?? "", "latin1"));
      const psk = getString(params, "psk");
      m.setPassword(Buffer.from(psk ?? "", "latin1"));
      m.flag = ((m.flag & 0xffff0000) + WIFI_PROVISIONED) >>> 0;
      await cal.writeBytes(SLOT.metadata, m.toSlot());
    } catch {
      await this.fail(STATE.configure, "The AWS IoT Demo failed to save the WIFI credentials.", "AWS IoT Zero Touch Demo saveCredentials Message:");
    }
  }

  private getStatus(result: { [k: string]: Json }): void {
    // The pointer is read after the global was overwritten (provisioning_task.c:397-414).
    this.status.set(STATE.configure, STATUS.success, "The AWS IoT Demo successfully returned the current status information.");
    result.state_id = this.status.state;
    result.status_code = this.status.code;
    result.status_msg = this.status.message;
  }

  private async genKey(result: { [k: string]: Json }): Promise<void> {
    const { cal } = this.host;
    this.status.set(STATE.configure, STATUS.success, "The AWS IoT Demo successfully generated the device ECC-p256 key pair.");
    try {
      try {
        result.devicePublicKey = hex(await cal.genKey(SLOT.deviceKey));
      } catch {
        await this.fail(STATE.configure, "The AWS IoT Demo failed to create the device ECC-p256 key pair.", "AWS IoT Zero Touch Demo genKey Message:");
        return;
      }
      try {
        await cal.writeBytes(SLOT.metadata, Buffer.alloc(SLOT8_SIZE));
      } catch {
        await this.fail(STATE.configure, "The AWS IoT Demo failed to reset the credentials information.", "AWS IoT Zero Touch Demo genKey Message:");
      }
    } finally {
      this.host.setProvisioningState(STATE.provisionReset);
    }
  }

  private async genCsr(result: { [k: string]: Json }): Promise<void> {
    const { cal } = this.host;
    this.status.set(STATE.configure, STATUS.success, "The AWS IoT Demo successfully generated the device CSR.");
    try {
      // atcacert_create_csr: the template with slot 0's public key, the TBS digest in software, atcab_sign.
      const info = csrInfo(await cal.publicKey(SLOT.deviceKey));
      const sig = await cal.sign(SLOT.deviceKey, createHash("sha256").update(info).digest());
      result.csr = hex(assembleCsr(info, sig));
    } catch {
      await this.fail(STATE.configure, "The AWS IoT Demo failed to generate the device CSR.", "AWS IoT Zero Touch Demo genCsr Message:");
    }
  }

  private async saveCredentials(params: { [k: string]: Json } | null): Promise<void> {
    const { cal } = this.host;
    this.status.set(STATE.configure, STATUS.success, "The AWS IoT Demo successfully saved the device credentials.");
    const title = "AWS IoT Zero Touch Demo saveCredentials Message:";
    try {
      await saveCertificates(
        cal,
        hexToBinary(getString(params, "signerCaPublicKey") ?? ""),
        hexToBinary(getString(params, "signerCert") ?? ""),
        hexToBinary(getString(params, "deviceCert") ?? ""),
      );
    } catch (err) {
      const message = err instanceof SaveStepError ? err.message : "The AWS IoT Demo failed to save the Signer CA public key.";
      return this.fail(STATE.configure, message, title);
    }
    try {
      const m = new Metadata(await cal.readBytes(SLOT.metadata, SLOT8_SIZE));
      m.setHost(Buffer.from(getString(params, "hostName") ?? "", "latin1"));
      m.flag = ((m.flag & 0x0000ffff) + ((AWS_PROVISIONED << 16) >>> 0)) >>> 0;
      await cal.writeBytes(SLOT.metadata, m.toSlot());
    } catch {
      return this.fail(STATE.configure, "The AWS IoT Demo failed to save the Hostname.", title);
    }
    this.host.setProvisioningState(STATE.configure);
  }

  private async resetKit(): Promise<void> {
    const { cal, console } = this.host;
    this.status.set(STATE.configure, STATUS.success, "The AWS IoT Demo successfully reset the kit information.");
    try {
      await cal.writeBytes(SLOT.metadata, Buffer.alloc(SLOT8_SIZE));
    } catch {
      this.status.set(STATE.provisionReset, STATUS.ateccCommFailure, "The AWS IoT Demo failed to reset the kit information.");
      await console.status("AWS IoT Zero Touch Demo genKey Message:", this.status);
    }
    this.host.setProvisioningState(STATE.provisionReset);
    await console.warning("The ATECCx08A device has not been provisioned. Waiting ...");
  }
}
