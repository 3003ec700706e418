/**
 * The emulator in a container, started by testcontainers: the image scripts/docker-lab builds from
 * docker/emulator.Dockerfile (no registry here, so the image must exist; it is never pulled). The
 * emulator inside is the same code as the in-process one; the harness reaches it as a remote emulator
 * through the mapped ports.
 *
 * testcontainers settings for a machine without a registry: Ryuk (the reaper) cannot be pulled, so it
 * is off (TESTCONTAINERS_RYUK_DISABLED) and stop() removes the container itself; the host is
 * "localhost" (TESTCONTAINERS_HOST_OVERRIDE); readiness is the emulator's own "ready" line.
 */
import { GenericContainer, getContainerRuntimeClient, ImageName, Wait, type ImagePullPolicy, type StartedTestContainer } from "testcontainers";
import { InfrastructureError } from "../../errors.ts";

export interface EmulatorContainer {
  apiEndpoint: string;
  mqtt: { host: string; port: number };
  serverCaPem: string;
  container: StartedTestContainer;
  stop(): Promise<void>;
}

/** Never pull: the image is built here (a pull would fail without a registry, slowly). */
const neverPull: ImagePullPolicy = { shouldPull: () => false };

export async function startEmulatorContainer(opts: { image: string; endpoint: string }): Promise<EmulatorContainer> {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "localhost";
  const where = `container ${opts.image}`;
  // testcontainers pulls a missing image whatever the policy says: ask the engine first.
  const present = await getContainerRuntimeClient().then(
    (client) => client.image.exists(ImageName.fromString(opts.image)),
    (err: Error) => {
      throw new InfrastructureError(where, `no Docker engine answers (scripts/docker-lab up starts one): ${err.message.split("\n")[0]}`);
    },
  );
  if (!present) throw new InfrastructureError(where, "the image is not built here and cannot be pulled (build it: scripts/docker-lab up)");
  let container: StartedTestContainer;
  try {
    container = await new GenericContainer(opts.image)
      .withPullPolicy(neverPull)
      .withCommand(["--endpoint", opts.endpoint])
      .withExposedPorts(8080, 8883)
      .withLabels({ "zt-hil": "emulator" })
      .withWaitStrategy(Wait.forLogMessage(/zt-hil emulator ready/).withStartupTimeout(30_000))
      .start();
  } catch (err) {
    throw new InfrastructureError(where, `cannot start the emulator: ${(err as Error).message.split("\n")[0]}`);
  }
  const ca = await container.exec(["cat", "/data/server-ca.pem"]);
  if (ca.exitCode !== 0 || !ca.output.includes("BEGIN CERTIFICATE")) throw new InfrastructureError(where, `no server CA in /data/server-ca.pem: ${ca.output.trim()}`);
  const host = container.getHost();
  return {
    apiEndpoint: `http://${host}:${container.getMappedPort(8080)}`,
    mqtt: { host, port: container.getMappedPort(8883) },
    serverCaPem: ca.output,
    container,
    stop: async () => {
      await container.stop({ remove: true, removeVolumes: true });
    },
  };
}
