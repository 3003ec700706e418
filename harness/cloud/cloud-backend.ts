/**
 * The cloud seam: what the suite needs of an AWS IoT account, with four bindings: the in-process
 * emulator (default lab), a remote emulator (`zt-hil emulator` or its container on another host), the
 * emulator's image in a container testcontainers starts for the worker, and real AWS IoT (default
 * credential chain). The kit and the harness reach all three through the same
 * @aws-sdk clients; only the emulators can also report what happened inside (events) and hand over
 * TLS key logs.
 *
 * Contract: setupJitr() is idempotent (reuses a registered signer CA and an existing rule); events()
 * and keyLog() return null where the backend cannot observe; setFaults() rejects on AWS; close()
 * stops what the backend started and nothing else.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { DescribeCACertificateCommand, DescribeEndpointCommand, GetTopicRuleCommand, IoTClient, UpdateCACertificateCommand } from "@aws-sdk/client-iot";
import { IoTDataPlaneClient } from "@aws-sdk/client-iot-data-plane";
import type { Lab } from "../config/lab-schema.ts";
import { ZtError } from "../errors.ts";
import type { Pki } from "../pki/pki-dir.ts";
import { step } from "../steps.ts";
import type { EmulatorEvent } from "./emulator/data-plane.ts";
import { EMULATOR_CREDENTIALS, IotCoreEmulator, JITR_LAMBDA_NAME } from "./emulator/emulator.ts";
import type { Faults } from "./emulator/faults.ts";
import { createJitrRule, JITR_RULE_NAME, registerSigner } from "./emulator/jitr-setup.ts";

export class CloudError extends ZtError {}

export type CloudEvent = EmulatorEvent;

export interface CloudBackend {
  readonly description: string;
  readonly kind: Lab["cloud"]["kind"];
  readonly iot: IoTClient;
  readonly data: IoTDataPlaneClient;
  /** Where devices connect (MQTT over TLS): the address the harness (or a capture point) reaches. */
  readonly mqtt: { host: string; port: number };
  /**
   * The host name a kit is provisioned with: the ATS endpoint name. Firmware v2.2.5 resolves it whole
   * and always connects to port 8883.
   */
  readonly endpointName: string;
  /** PEM roots a virtual kit must trust for the server chain; null: a real kit's own store. */
  readonly serverTrustPem: string | null;
  setupJitr(pki: Pki): Promise<{ caCertificateId: string }>;
  events(since?: number): Promise<CloudEvent[] | null>;
  keyLog(): Promise<string[] | null>;
  setFaults(f: Partial<Faults>): Promise<void>;
  close(): Promise<void>;
}

const isNotFound = (err: unknown) => ["ResourceNotFoundException", "UnauthorizedException"].includes((err as { name?: string }).name ?? "");

async function setupJitr(iot: IoTClient, pki: Pki, lambdaArn: string): Promise<{ caCertificateId: string }> {
  const id = createHash("sha256").update(Buffer.from(pki.signer.cert.rawData)).digest("hex");
  const caCertificateId = await step("register the signer CA with a verification certificate (JITR)", async () => {
    try {
      const d = await iot.send(new DescribeCACertificateCommand({ certificateId: id }));
      if (d.certificateDescription?.status !== "ACTIVE" || d.certificateDescription.autoRegistrationStatus !== "ENABLE") {
        await iot.send(new UpdateCACertificateCommand({ certificateId: id, newStatus: "ACTIVE", newAutoRegistrationStatus: "ENABLE" }));
      }
      return id;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      return registerSigner(iot, pki);
    }
  });
  await step(`topic rule ${JITR_RULE_NAME} → ${lambdaArn}`, async () => {
    try {
      await iot.send(new GetTopicRuleCommand({ ruleName: JITR_RULE_NAME }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await createJitrRule(iot, lambdaArn);
    }
  });
  return { caCertificateId };
}

function hostPort(endpoint: string, defaultPort: number): { host: string; port: number } {
  const i = endpoint.lastIndexOf(":");
  return i > 0 && /^\d+$/.test(endpoint.slice(i + 1)) ? { host: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1)) } : { host: endpoint, port: defaultPort };
}

/** The default lab's cloud: an emulator in this process. */
export class InProcessEmulatorCloud implements CloudBackend {
  readonly kind = "emulator" as const;
  readonly description: string;
  readonly iot: IoTClient;
  readonly data: IoTDataPlaneClient;
  readonly mqtt: { host: string; port: number };
  readonly serverTrustPem: string;

  constructor(
    readonly emulator: IotCoreEmulator,
    readonly endpointName: string,
  ) {
    this.description = `in-process emulator (api ${emulator.apiEndpoint}, mqtt ${emulator.host}:${emulator.mqttPort} as ${endpointName}, ${emulator.faults.tlsStack} TLS stack)`;
    this.iot = emulator.iotClient();
    this.data = emulator.iotDataClient();
    this.mqtt = { host: emulator.host, port: emulator.mqttPort };
    this.serverTrustPem = emulator.serverCaPem;
  }

  static async start(cfg: Extract<Lab["cloud"], { kind: "emulator" }>, faults: Partial<Faults>): Promise<InProcessEmulatorCloud> {
    const emulator = await IotCoreEmulator.start({ dataDir: cfg.dataDir ?? null, endpoint: cfg.endpoint, faults: { tlsStack: cfg.tlsStack, ...faults }, ...(cfg.jitrLambda ? { jitrLambda: cfg.jitrLambda } : {}) });
    return new InProcessEmulatorCloud(emulator, cfg.endpoint);
  }

  setupJitr(pki: Pki) {
    return setupJitr(this.iot, pki, `arn:aws:lambda:${this.emulator.iot.account.region}:${this.emulator.iot.account.accountId}:function:${JITR_LAMBDA_NAME}`);
  }

  async events(since = 0) {
    return this.emulator.events.slice(since);
  }

  async keyLog() {
    return [...this.emulator.keyLog];
  }

  async setFaults(f: Partial<Faults>) {
    this.emulator.setFaults(f);
  }

  async close() {
    this.iot.destroy();
    this.data.destroy();
    await this.emulator.stop();
  }
}

/** An emulator running elsewhere (`zt-hil emulator`, or the docker image). */
export class RemoteEmulatorCloud implements CloudBackend {
  readonly kind = "remote-emulator" as const;
  readonly description: string;
  readonly iot: IoTClient;
  readonly data: IoTDataPlaneClient;
  readonly mqtt: { host: string; port: number };
  readonly endpointName: string;
  readonly serverTrustPem: string;

  constructor(
    private readonly cfg: { apiEndpoint: string; mqtt: { host: string; port: number }; endpointName: string; serverTrustPem: string },
    /** Stops what this binding started (the container), after the clients. */
    private readonly stop: () => Promise<void> = async () => {},
    description = `remote emulator ${cfg.apiEndpoint}`,
  ) {
    this.description = description;
    const opts = { endpoint: cfg.apiEndpoint, region: "us-east-1", credentials: EMULATOR_CREDENTIALS };
    this.iot = new IoTClient(opts);
    this.data = new IoTDataPlaneClient(opts);
    this.mqtt = cfg.mqtt;
    this.endpointName = cfg.endpointName;
    this.serverTrustPem = cfg.serverTrustPem;
  }

  static fromLab(cfg: Extract<Lab["cloud"], { kind: "remote-emulator" }>): RemoteEmulatorCloud {
    const mqtt = hostPort(cfg.mqttEndpoint, 8883);
    let serverTrustPem: string;
    try {
      serverTrustPem = readFileSync(cfg.serverCaFile, "utf8");
    } catch (err) {
      throw new CloudError(cfg.serverCaFile, `cannot read the emulator's server CA: ${(err as NodeJS.ErrnoException).code}`);
    }
    return new RemoteEmulatorCloud({ apiEndpoint: cfg.apiEndpoint, mqtt, endpointName: cfg.endpointName ?? mqtt.host, serverTrustPem });
  }

  /** The emulator image in a container of this worker's, started by testcontainers (harness/cloud/emulator/container.ts). */
  static async inContainer(cfg: Extract<Lab["cloud"], { kind: "container" }>): Promise<RemoteEmulatorCloud> {
    const { startEmulatorContainer } = await import("./emulator/container.ts");
    const c = await step(`start the emulator container (${cfg.image}, testcontainers)`, () => startEmulatorContainer({ image: cfg.image, endpoint: cfg.endpoint }));
    return new RemoteEmulatorCloud({ apiEndpoint: c.apiEndpoint, mqtt: c.mqtt, endpointName: cfg.endpoint, serverTrustPem: c.serverCaPem }, c.stop, `emulator container ${cfg.image} (${c.container.getId().slice(0, 12)}) at ${c.apiEndpoint}`);
  }

  private async get(path: string): Promise<Response> {
    const r = await fetch(new URL(path, this.cfg.apiEndpoint));
    if (!r.ok) throw new CloudError(this.description, `${path} answered ${r.status}`);
    return r;
  }

  setupJitr(pki: Pki) {
    return setupJitr(this.iot, pki, `arn:aws:lambda:us-east-1:123456789012:function:${JITR_LAMBDA_NAME}`);
  }

  async events(since = 0) {
    return (await (await this.get(`/_zt/events?since=${since}`)).json()) as CloudEvent[];
  }

  async keyLog() {
    return (await (await this.get("/_zt/keylog")).text()).split("\n").filter(Boolean);
  }

  async setFaults(f: Partial<Faults>) {
    const r = await fetch(new URL("/_zt/faults", this.cfg.apiEndpoint), { method: "POST", body: JSON.stringify(f) });
    if (!r.ok) throw new CloudError(this.description, `faults refused: ${await r.text()}`);
  }

  async close() {
    this.iot.destroy();
    this.data.destroy();
    await this.stop();
  }
}

/** Real AWS IoT: credentials from the default chain (or a named profile). */
export class AwsCloud implements CloudBackend {
  readonly kind = "aws" as const;
  readonly description: string;
  readonly serverTrustPem = null;

  readonly endpointName: string;

  private constructor(
    readonly iot: IoTClient,
    readonly data: IoTDataPlaneClient,
    readonly mqtt: { host: string; port: number },
    region: string,
  ) {
    this.description = `AWS IoT ${region} (${mqtt.host})`;
    this.endpointName = mqtt.host;
  }

  static async connect(cfg: Extract<Lab["cloud"], { kind: "aws" }>): Promise<AwsCloud> {
    if (cfg.profile) process.env.AWS_PROFILE = cfg.profile;
    const iot = new IoTClient({ region: cfg.region });
    const { endpointAddress } = await iot.send(new DescribeEndpointCommand({ endpointType: "iot:Data-ATS" }));
    if (!endpointAddress) throw new CloudError(`AWS ${cfg.region}`, "DescribeEndpoint returned no address");
    return new AwsCloud(iot, new IoTDataPlaneClient({ region: cfg.region, endpoint: `https://${endpointAddress}` }), { host: endpointAddress, port: 8883 }, cfg.region);
  }

  setupJitr(pki: Pki) {
    const arn = process.env.ZT_JITR_LAMBDA_ARN;
    if (!arn) throw new CloudError("ZT_JITR_LAMBDA_ARN", "set it to the ARN of the deployed harness/cloud/jitr-lambda.ts function");
    return setupJitr(this.iot, pki, arn);
  }

  async events() {
    return null;
  }

  async keyLog() {
    return null;
  }

  async setFaults(): Promise<void> {
    throw new CloudError(this.description, "fault knobs exist only on the emulator");
  }

  async close() {
    this.iot.destroy();
    this.data.destroy();
  }
}

export async function openCloud(cfg: Lab["cloud"], faults: Partial<Faults> = {}): Promise<CloudBackend> {
  switch (cfg.kind) {
    case "emulator":
      return InProcessEmulatorCloud.start(cfg, faults);
    case "remote-emulator":
    case "container": {
      const c = cfg.kind === "container" ? await RemoteEmulatorCloud.inContainer(cfg) : RemoteEmulatorCloud.fromLab(cfg);
      if (Object.keys(faults).length) await c.setFaults(faults).catch(async (err: unknown) => (await c.close(), Promise.reject(err)));
      return c;
    }
    case "aws":
      if (Object.keys(faults).length) throw new CloudError("ZT_FAULTS", "fault knobs exist only on the emulator");
      return AwsCloud.connect(cfg);
  }
}
