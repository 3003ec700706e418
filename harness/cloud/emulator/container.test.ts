/**
 * The emulator image in a container, for real: a Docker engine and the image scripts/docker-lab builds
 * (FROM the base image it makes from this host's node and busybox), started by testcontainers. The
 * HIL suite passes once with `cloud: { kind: container }`, and every container is gone afterwards.
 * Locally these tests skip without an engine or the image (`scripts/docker-lab up`); .ci/run brings
 * both up, and under CI=true a skip fails the run.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { InfrastructureError } from "../../errors.ts";
import { nestedRun } from "../../testing/nested-run.ts";
import { runStatus } from "../../testing/tools.ts";
import { startEmulatorContainer } from "./container.ts";
import { DescribeEndpointCommand, IoTClient } from "@aws-sdk/client-iot";
import { EMULATOR_CREDENTIALS } from "./emulator.ts";

const IMAGE = "zt-hil/emulator:latest";

// One container set at a time: the last test checks that none is left.
test.describe.configure({ mode: "serial" });

test.beforeEach(() => {
  const engine = runStatus("docker", ["image", "inspect", IMAGE]);
  test.skip(engine.status !== 0, `needs a Docker engine with ${IMAGE} (scripts/docker-lab up): ${engine.stderr.trim().split("\n")[0]}`);
});

const ours = () => runStatus("docker", ["ps", "-a", "-q", "--filter", "label=zt-hil=emulator"]).stdout.trim();

test("testcontainers starts the image: ready line, server CA, ports published on loopback only; stop removes it", async () => {
  const c = await startEmulatorContainer({ image: IMAGE, endpoint: "ats.iot.zt-hil.test" });
  try {
    expect(c.serverCaPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const iot = new IoTClient({ endpoint: c.apiEndpoint, region: "us-east-1", credentials: EMULATOR_CREDENTIALS });
    expect((await iot.send(new DescribeEndpointCommand({ endpointType: "iot:Data-ATS" }))).endpointAddress).toBe("ats.iot.zt-hil.test");
    iot.destroy();
    const inspect = JSON.parse(runStatus("docker", ["inspect", c.container.getId()]).stdout) as { NetworkSettings: { Ports: Record<string, { HostIp: string }[]> }; Config: { User: string } }[];
    const bindings = Object.values(inspect[0]!.NetworkSettings.Ports).flat();
    expect(bindings.length).toBeGreaterThanOrEqual(2);
    for (const b of bindings) expect(["127.0.0.1", "::1"]).toContain(b.HostIp);
    expect(inspect[0]!.Config.User).toBe("node");
  } finally {
    await c.stop();
  }
  expect(ours()).toBe("");
});

test("an image that is not there is an infrastructure error that says how to build it, not a pull", async () => {
  const err = await startEmulatorContainer({ image: "zt-hil/no-such-image:latest", endpoint: "ats.iot.zt-hil.test" }).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(InfrastructureError);
  expect((err as Error).message).toBe("[infrastructure] container zt-hil/no-such-image:latest: the image is not built here and cannot be pulled (build it: scripts/docker-lab up)");
});

test("the HIL suite passes with the emulator in a container that testcontainers started (cloud: { kind: container })", async ({}, info) => {
  test.setTimeout(420_000);
  const r = await nestedRun("specs", {}, info, { cloud: `{ kind: container, image: "${IMAGE}" }`, bus: true });
  expect(r.code, r.output.slice(-4000)).toBe(0);
  const results = JSON.parse(readFileSync(join(r.reports, "results.json"), "utf8")) as { stats: { expected: number; unexpected: number; skipped: number } };
  expect(results.stats).toMatchObject({ unexpected: 0, skipped: 0 });
  expect(results.stats.expected).toBeGreaterThanOrEqual(8);
  expect(ours()).toBe("");
});
