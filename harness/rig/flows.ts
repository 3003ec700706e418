/**
 * What the specs do to a rig, as named steps: provision it (optionally with a new slot-0 key, so the
 * cloud sees an unknown certificate and JITR happens again) and wait for the console to confirm.
 */
import { provisionKit, type Provisioned } from "../kit/provisioning.ts";
import { certificateId, thingName } from "../pki/identity.ts";
import type { Pki } from "../pki/pki-dir.ts";
import { waitStep } from "../steps.ts";
import type { OpenRig } from "./rig.ts";

export interface ProvisionedKit extends Provisioned {
  thing: string;
  certId: string;
  /** Console position of the "successfully provisioned" line: what follows runs on this identity. */
  consoleFrom: number;
}

export const SUBSCRIBED = (thing: string) => new RegExp(`^SUCCESS:  \\$aws/things/${thing}/shadow/update/delta$`);

export async function provision(rig: OpenRig, pki: Pki, opts: { newKey: boolean }): Promise<ProvisionedKit> {
  const bootFrom = rig.console.mark();
  await rig.power.cycle();
  await waitStep("console: the firmware is up", () => rig.console.expect(/^VERSION:  AWS IoT Zero Touch Demo v2\.2\.5$/, { from: bootFrom, timeoutMs: 15_000 }));
  if (opts.newKey) await waitStep("kit genKey: a new slot-0 key (a device the cloud has never seen)", () => rig.kit.app("genKey"));
  const provisionFrom = rig.console.mark();
  const p = await provisionKit(rig.kit, pki, { hostName: rig.cloudHostName, ssid: rig.rig.wifi.ssid, psk: rig.rig.wifi.psk });
  rig.learn("kit serial", p.serialNumber);
  const done = await waitStep("console: provisioning confirmed", () => rig.console.expect(/^SUCCESS:  The ATECCx08A device has been successfully provisioned\.$/, { from: provisionFrom, timeoutMs: 15_000 }));
  return { ...p, thing: thingName(p.publicKey), certId: certificateId(Buffer.from(p.deviceCert.rawData)), consoleFrom: rig.console.lines.indexOf(done) };
}

/** How long a kit may take from provisioning (or power-on) to its subscription: ZT_CONNECT_TIMEOUT_MS, default 60 s. */
const CONNECT_TIMEOUT_MS = Number(process.env.ZT_CONNECT_TIMEOUT_MS ?? 60_000);

export async function waitSubscribed(rig: OpenRig, thing: string, from: number, timeoutMs = CONNECT_TIMEOUT_MS): Promise<number> {
  const line = await waitStep(`console: subscribed to $aws/things/${thing}/shadow/update/delta`, () => rig.console.expect(SUBSCRIBED(thing), { from, timeoutMs }));
  return line.time;
}

/** Provision the kit with a new key and wait until it is connected and subscribed. */
export async function connectedKit(rig: OpenRig, pki: Pki): Promise<ProvisionedKit> {
  const p = await provision(rig, pki, { newKey: true });
  await waitSubscribed(rig, p.thing, p.consoleFrom);
  return p;
}
