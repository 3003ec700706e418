/**
 * Starting the emulator image (docker/emulator.Dockerfile) with testcontainers, for hosts that have a
 * Docker engine. zt-hil's own machines and CI have none, so this path is not covered by its tests;
 * the in-process emulator is the same code.
 */
import { fileURLToPath } from "node:url";
import { GenericContainer, Wait, type StartedTestContainer } from "testcontainers";

export interface EmulatorContainer {
  apiEndpoint: string;
  mqtt: { host: string; port: number };
  serverCaPem: string;
  container: StartedTestContainer;
  stop(): Promise<void>;
}

export async function startEmulatorContainer(): Promise<EmulatorContainer> {
  const root = fileURLToPath(new URL("../../../", import.meta.url));
  const image = await GenericContainer.fromDockerfile(root, "docker/emulator.Dockerfile").build("zt-hil-emulator", { deleteOnExit: false });
  const container = await image.withExposedPorts(8080, 8883).withWaitStrategy(Wait.forLogMessage(/zt-hil emulator ready/)).start();
  const ca = await container.exec(["cat", "/data/server-ca.pem"]);
  const host = container.getHost();
  return {
    apiEndpoint: `http://${host}:${container.getMappedPort(8080)}`,
    mqtt: { host, port: container.getMappedPort(8883) },
    serverCaPem: ca.output,
    container,
    stop: async () => {
      await container.stop();
    },
  };
}
