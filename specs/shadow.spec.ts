/** The device shadow round trip: a desired LED reaches the kit's LED, a button press comes back reported. */
import { GetThingShadowCommand, UpdateThingShadowCommand } from "@aws-sdk/client-iot-data-plane";
import { expect, test } from "../harness/fixtures.ts";
import { connectedKit } from "../harness/rig/flows.ts";

test("desired LED → delta → the kit's LED; button press → reported state", async ({ rig, cloud, pki }) => {
  const { thing } = await connectedKit(rig, pki);
  const reported = async () => JSON.parse(Buffer.from((await cloud.data.send(new GetThingShadowCommand({ thingName: thing }))).payload!).toString()).state?.reported ?? {};
  await test.step("the kit reports its state after subscribing", () => expect.poll(reported).toMatchObject({ led1: "off", led2: "off", led3: "off", button1: "up" }));
  for (const [led, value] of [["led1", "on"], ["led3", "on"], ["led1", "off"]] as const) {
    await test.step(`desired ${led} = ${value}`, async () => {
      await cloud.data.send(new UpdateThingShadowCommand({ thingName: thing, payload: Buffer.from(JSON.stringify({ state: { desired: { [led]: value } } })) }));
      await expect.poll(reported, { timeout: 15_000 }).toMatchObject({ [led]: value });
      if (rig.control) await expect.poll(async () => ((await rig.control!({ cmd: "leds" })).leds as Record<string, string>)[led]).toBe(value);
    });
  }
  await test.step("the shadow has no delta left", async () => {
    const doc = JSON.parse(Buffer.from((await cloud.data.send(new GetThingShadowCommand({ thingName: thing }))).payload!).toString());
    expect(doc.state.delta).toBeUndefined();
  });
  test.skip(rig.control === null, "button presses need the virtual kit's control port (or an actuator) on this rig");
  await test.step("press button 2: down, then up, both reported", async () => {
    const before = (await cloud.events())?.length ?? 0;
    await rig.control!({ cmd: "press", button: 2 });
    await expect.poll(reported).toMatchObject({ button2: "up" });
    const events = await cloud.events(before);
    if (events) expect(events.filter((e) => e.type === "published" && e.detail.topic === `$aws/things/${thing}/shadow/update`).length).toBeGreaterThanOrEqual(2);
  });
});
