/**
 * A provisioned kit keeps its identity over repeated power cycles and reconnects without a new
 * registration. Each boot of a provisioned v2.2.5 kit prints the not-provisioned warning first (it is
 * unconditional after ATECC init) and the success line on its first slot-8 poll.
 */
import { ListCertificatesCommand } from "@aws-sdk/client-iot";
import { expect, test } from "../harness/fixtures.ts";
import { readIdentity } from "../harness/kit/provisioning.ts";
import { connectedKit, waitSubscribed } from "../harness/rig/flows.ts";
import { step } from "../harness/steps.ts";

const CYCLES = Number(process.env.ZT_POWER_CYCLES ?? 3);

test(`the kit survives ${CYCLES} power cycles with its identity and reconnects without re-registering`, async ({ rig, cloud, pki }) => {
  const p = await connectedKit(rig, pki);
  const certificates = async () => (await cloud.iot.send(new ListCertificatesCommand({}))).certificates!.length;
  const before = await certificates();
  const eventsFrom = (await cloud.events())?.length ?? 0;
  for (let i = 1; i <= CYCLES; i++) {
    await test.step(`power cycle ${i}`, async () => {
      const from = rig.console.mark();
      await rig.power.cycle();
      await waitSubscribed(rig, p.thing, from);
      const boot = rig.console.since(from).map((l) => l.text).filter((l) => /provisioned|^Attempting/.test(l));
      expect(boot.slice(0, 3)).toEqual(["WARNING:  The ATECCx08A device has not been provisioned. Waiting ...", "SUCCESS:  The ATECCx08A device has been successfully provisioned.", "Attempting to connect to AWS IoT ..."]);
      const id = await step("kit init: the same serial number and slot-0 key", () => readIdentity(rig.kit));
      expect(id.publicKey.equals(p.publicKey)).toBe(true);
      expect(id.serialNumber).toBe(p.serialNumber);
      expect(
        rig.console.since(from).filter((l) => l.text.startsWith("ERROR:")).map((l) => l.text),
        `ERROR lines on the console after power cycle ${i}`,
      ).toEqual([]);
    });
  }
  expect(await certificates()).toBe(before);
  const events = await cloud.events(eventsFrom);
  if (events) expect(events.filter((e) => e.type === "jitr-registered")).toEqual([]);
});
