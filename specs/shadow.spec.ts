/**
 * The device shadow round trip as firmware v2.2.5 does it: after subscribing it flashes its LED for 5 s,
 * then reports; a desired LED reaches the kit's LED ("on" lights it, any other string puts it out) and
 * comes back reported; a button press TOGGLES the button's reported state, one report per press.
 * The two tests run in order on one connected kit; pressing buttons needs the virtual kit's control
 * port (a real rig has no actuator), so that test is tagged @needs-buttons and runs only where it can.
 */
import { GetThingShadowCommand, UpdateThingShadowCommand } from "@aws-sdk/client-iot-data-plane";
import { expect, test } from "../harness/fixtures.ts";
import { waitStep } from "../harness/steps.ts";
import { connectedKit } from "../harness/rig/flows.ts";
import type { CloudBackend } from "../harness/cloud/cloud-backend.ts";

test.describe.configure({ mode: "serial" });

let connected: { thing: string } | null = null;

/** The thing's reported state ({} before the kit's first report). */
const reportedOf = (cloud: CloudBackend, thing: string) => async () =>
  cloud.data.send(new GetThingShadowCommand({ thingName: thing })).then(
    (r) => JSON.parse(Buffer.from(r.payload!).toString()).state?.reported ?? {},
    (err: { name?: string }) => {
      if (err.name === "ResourceNotFoundException") return {};
      throw err;
    },
  );

test("desired LED → delta → the kit's LED → reported", async ({ rig, cloud, pki }) => {
  const { thing } = await connectedKit(rig, pki);
  connected = { thing };
  const reported = reportedOf(cloud, thing);
  await waitStep("the kit reports its state after subscribing (and its 5 s LED flash)", () => expect.poll(reported, { timeout: 15_000 }).toMatchObject({ led1: "off", led2: "off", led3: "off", button1: "up", button2: "up", button3: "up" }));
  for (const [led, value] of [["led1", "on"], ["led3", "on"], ["led1", "off"]] as const) {
    await waitStep(`desired ${led} = ${value}`, async () => {
      await cloud.data.send(new UpdateThingShadowCommand({ thingName: thing, payload: Buffer.from(JSON.stringify({ state: { desired: { [led]: value } } })) }));
      await expect.poll(reported, { timeout: 15_000 }).toMatchObject({ [led]: value });
      if (rig.control) await expect.poll(async () => ((await rig.control!({ cmd: "leds" })).leds as Record<string, string>)[led]).toBe(value);
    });
  }
  await test.step("the shadow has no delta left", async () => {
    const doc = JSON.parse(Buffer.from((await cloud.data.send(new GetThingShadowCommand({ thingName: thing }))).payload!).toString());
    expect(doc.state.delta).toBeUndefined();
  });
});

test("a button press toggles its reported state, one report per press", { tag: "@needs-buttons" }, async ({ rig, cloud }) => {
  expect(connected, "the LED test connected the kit first (serial mode)").not.toBeNull();
  const { thing } = connected!;
  const reported = reportedOf(cloud, thing);
  const updates = async () => (await cloud.events())?.filter((e) => e.type === "published" && e.detail.topic === `$aws/things/${thing}/shadow/update`).length ?? null;
  await test.step("press button 2: reported down, one report", async () => {
    const before = await updates();
    await rig.control!({ cmd: "press", button: 2 });
    await expect.poll(reported).toMatchObject({ button2: "down" });
    if (before !== null) expect(await updates()).toBe(before + 1);
  });
  await test.step("press button 2 again (after the 900 ms debounce): reported up", async () => {
    await new Promise((r) => setTimeout(r, 1000));
    await rig.control!({ cmd: "press", button: 2 });
    await expect.poll(reported).toMatchObject({ button2: "up" });
  });
});
