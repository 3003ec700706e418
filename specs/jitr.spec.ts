/**
 * Just-In-Time Registration, exactly two attempts: the first completes the handshake and is dropped
 * without CONNACK while the certificate is registered PENDING_ACTIVATION and the JITR Lambda activates
 * it; the second connects and subscribes. The time from the first attempt to the subscription is a
 * budget of the rig's class.
 */
import { DescribeCertificateCommand, DescribeThingCommand, ListAttachedPoliciesCommand } from "@aws-sdk/client-iot";
import { analyzeFile } from "../harness/analysis/analyze-capture.ts";
import { expect, test } from "../harness/fixtures.ts";
import { summarize } from "../harness/latency/stats.ts";
import { provision, waitSubscribed } from "../harness/rig/flows.ts";
import { waitStep } from "../harness/steps.ts";
import { parseKeyLog } from "../harness/tls/keylog.ts";

const ACTIVATION_TIMEOUT_MS = Number(process.env.ZT_JITR_TIMEOUT_MS ?? 20_000);

test("JITR: the first attempt registers and is dropped, the Lambda activates, the second attempt subscribes", async ({ rig, cloud, pki, jitr, capture, budgets }) => {
  const eventsFrom = (await cloud.events())?.length ?? 0;
  const p = await provision(rig, pki, { newKey: true });

  await waitStep("the certificate is activated by the JITR Lambda", async () => {
    const deadline = Date.now() + ACTIVATION_TIMEOUT_MS;
    let status = "not registered";
    for (;;) {
      try {
        status = (await cloud.iot.send(new DescribeCertificateCommand({ certificateId: p.certId }))).certificateDescription?.status ?? status;
      } catch (err) {
        if ((err as { name?: string }).name !== "ResourceNotFoundException") throw err;
      }
      if (status === "ACTIVE") return;
      if (Date.now() >= deadline) throw new Error(`the JITR Lambda did not activate the kit's certificate within ${ACTIVATION_TIMEOUT_MS} ms: it is ${status} (certificate ${p.certId})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  const subscribedAt = await waitSubscribed(rig, p.thing, p.consoleFrom);
  const lines = rig.console.since(p.consoleFrom).filter((l) => l.time <= subscribedAt);
  const attempts = lines.filter((l) => l.text === "Attempting to connect to AWS IoT ...");

  await test.step("exactly two attempts: the first dropped without CONNACK, the second subscribed", async () => {
    expect(attempts.map((a) => a.text), "connect attempts before the subscription (JITR needs two)").toHaveLength(2);
    expect(lines.filter((l) => l.text === "ERROR:    The AWS IoT Demo failed to connect with the MQTT connect message.")).toHaveLength(1);
    // v2.2.5 prints "Connected to AWS IoT." when TLS is up, before MQTT: on both attempts.
    expect(lines.filter((l) => l.text === "SUCCESS:  AWS Zero Touch Demo: Connected to AWS IoT.")).toHaveLength(2);
  });

  await test.step("thing and policy exist and are attached", async () => {
    expect((await cloud.iot.send(new DescribeThingCommand({ thingName: p.thing }))).thingTypeName).toBe("microchip-zero-touch-kit");
    const arn = (await cloud.iot.send(new DescribeCertificateCommand({ certificateId: p.certId }))).certificateDescription!.certificateArn!;
    expect((await cloud.iot.send(new ListAttachedPoliciesCommand({ target: arn }))).policies?.map((x) => x.policyName)).toEqual([`ZTPolicy_${p.certId}`]);
  });

  const events = await cloud.events(eventsFrom);
  if (events) {
    await test.step("the cloud saw: registration PENDING_ACTIVATION, the event, the Lambda, the refusal", async () => {
      const mine = events.filter((e) => JSON.stringify(e.detail).includes(p.certId));
      expect(mine.map((e) => e.type)).toEqual(expect.arrayContaining(["jitr-registered", "jitr-pending", "refused", "lambda-invoked", "lambda-succeeded"]));
      expect(mine.find((e) => e.type === "refused")!.detail.reason).toBe("certificate registered PENDING_ACTIVATION (JITR)");
      expect(mine.find((e) => e.type === "lambda-invoked")!.detail.event).toMatchObject({ certificateId: p.certId, caCertificateId: jitr.caCertificateId, certificateStatus: "PENDING_ACTIVATION" });
    });
  }

  await capture.stop();
  const keys = await cloud.keyLog();
  const report = await analyzeFile(capture.file, keys ? parseKeyLog(keys) : undefined);
  await test.step("on the wire: attempt 1 completes the handshake and is closed by the server without CONNACK", async () => {
    expect(report.connections.length).toBeGreaterThanOrEqual(2);
    const [first, second] = report.connections;
    expect(first!).toCompleteHandshake();
    expect(first!.alerts.some((a) => a.from === "server")).toBe(true);
    expect(first!.closed?.by).toBe("server");
    if (first!.decrypted) expect(first!.mqtt.map((m) => m.cmd)).not.toContain("connack");
    if (second!.decrypted) expect(second!.mqtt.map((m) => m.cmd)).toEqual(expect.arrayContaining(["connack", "subscribe", "suback"]));
  });

  const elapsed = summarize("first attempt → subscribed", [subscribedAt - attempts[0]!.time]);
  await test.info().attach("JITR timing", { body: JSON.stringify(elapsed, null, 2), contentType: "application/json" });
  expect(elapsed).toMeetBudget(budgets.jitr.firstAttemptToSubscribed);
});
