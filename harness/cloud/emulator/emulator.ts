/**
 * The local IoT Core twin, in-process: control plane and iot-data over HTTP, MQTT over TLS, JITR,
 * rules with the kit's JITR Lambda as function ZTLambdaJITR, shadows, fault knobs. The same
 * @aws-sdk clients that talk to AWS talk to it with only `endpoint` changed.
 */
import { ZtError } from "../../errors.ts";
import { EventEmitter } from "node:events";
import type { Server } from "node:http";
import { join } from "node:path";
import { IoTClient } from "@aws-sdk/client-iot";
import { IoTDataPlaneClient } from "@aws-sdk/client-iot-data-plane";
import { makeJitrHandler } from "../jitr-lambda.ts";
import { DataPlane, type EmulatorEvent } from "./data-plane.ts";
import { DEFAULT_FAULTS, type Faults } from "./faults.ts";
import { createHttpApi } from "./http-api.ts";
import { IotService } from "./iot-service.ts";
import type { LambdaHandler } from "./rules.ts";
import { externalLambda, lambdaRuntime } from "./external-lambda.ts";
import { serverIdentity } from "./server-identity.ts";
import { Shadows } from "./shadows.ts";
import { Store } from "./store.ts";

export interface EmulatorOptions {
  /** Where state, the server CA and key logs live; null or omitted: in memory. */
  dataDir?: string | null;
  host?: string;
  apiPort?: number;
  mqttPort?: number;
  region?: string;
  accountId?: string;
  faults?: Partial<Faults>;
  /**
   * The name DescribeEndpoint answers, as AWS answers its ATS endpoint name (devices connect to it on
   * port 8883). Without it: host:port, for clients that can be told a port.
   */
  endpoint?: string;
  /** TLS handshake time limit for device connections, ms (default 10 s). */
  handshakeTimeoutMs?: number;
  /**
   * The customer's JITR Lambda (a .js/.mjs/.cjs or .py handler file) run as ZTLambdaJITR instead of
   * zt-hil's, with its timeout in ms (default 3000, AWS's).
   */
  jitrLambda?: { file: string; timeoutMs?: number };
}

/** Credentials the SDK needs to sign requests; the emulator does not check them. */
export const EMULATOR_CREDENTIALS = { accessKeyId: "zt-hil", secretAccessKey: "zt-hil-emulator" };

export const JITR_LAMBDA_NAME = "ZTLambdaJITR";

export class IotCoreEmulator extends EventEmitter {

  private constructor(
    readonly iot: IotService,
    readonly data: DataPlane,
    private readonly http: Server,
    readonly faults: Faults,
    readonly host: string,
    readonly apiPort: number,
    readonly mqttPort: number,
    readonly serverCaPem: string,
    readonly dataDir: string | null,
    /** NSS key log lines of every device connection (also in DATA/keylog/ with a data directory). */
    readonly keyLog: string[],
    /** Everything the data plane reported, in order. */
    readonly events: EmulatorEvent[],
  ) {
    super();
  }

  static async start(opts: EmulatorOptions = {}): Promise<IotCoreEmulator> {
    if (opts.jitrLambda) lambdaRuntime(opts.jitrLambda.file); // a missing or unknown handler file fails before anything listens
    const dataDir = opts.dataDir ?? null;
    const host = opts.host ?? "127.0.0.1";
    const store = new Store(dataDir);
    const faults: Faults = { ...DEFAULT_FAULTS, ...opts.faults };
    const region = opts.region ?? "us-east-1";
    let mqttPort = 0;
    const iot = new IotService(store, { region, accountId: opts.accountId ?? "123456789012" }, () => opts.endpoint ?? `${host.includes(":") ? `[${host}]` : host}:${mqttPort}`);
    const identity = await serverIdentity(dataDir);
    const lambdas = new Map<string, LambdaHandler>();
    const keyLog: string[] = [];
    const data = await DataPlane.create(iot, new Shadows(store), identity, faults, lambdas, dataDir ? join(dataDir, "keylog") : null, keyLog);
    if (opts.handshakeTimeoutMs !== undefined) data.handshakeTimeoutMs = opts.handshakeTimeoutMs;
    const events: EmulatorEvent[] = [];
    const http = createHttpApi(iot, data, faults, { events: () => events, keyLog: () => keyLog });
    // A port that cannot be bound releases whatever was bound already.
    const bindError = (what: string, port: number, err: unknown) => new ZtError(`${what} ${host}:${port}`, `cannot listen: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { exitCode: 3 });
    try {
      mqttPort = await data.listen(opts.mqttPort ?? 0, host);
    } catch (err) {
      await data.close();
      throw bindError("MQTT port", opts.mqttPort ?? 0, err);
    }
    let apiPort: number;
    try {
      apiPort = await new Promise<number>((resolve, reject) => {
        http.once("error", reject);
        http.listen(opts.apiPort ?? 0, host, () => resolve((http.address() as { port: number }).port));
      });
    } catch (err) {
      await data.close();
      throw bindError("API port", opts.apiPort ?? 0, err);
    }
    const emu = new IotCoreEmulator(iot, data, http, faults, host, apiPort, mqttPort, identity.caPem, dataDir, keyLog, events);
    data.on("event", (e: EmulatorEvent) => {
      emu.events.push(e);
      emu.emit("event", e);
    });
    const accountId = iot.account.accountId;
    lambdas.set(
      JITR_LAMBDA_NAME,
      opts.jitrLambda
        ? externalLambda({ file: opts.jitrLambda.file, functionName: JITR_LAMBDA_NAME, region, accountId, endpoint: () => emu.apiEndpoint, credentials: EMULATOR_CREDENTIALS, ...(opts.jitrLambda.timeoutMs ? { timeoutMs: opts.jitrLambda.timeoutMs } : {}) })
        : (makeJitrHandler(emu.iotClient(), region) as LambdaHandler),
    );
    return emu;
  }

  get apiEndpoint(): string {
    return `http://${this.host.includes(":") ? `[${this.host}]` : this.host}:${this.apiPort}`;
  }

  get lambdas(): Map<string, LambdaHandler> {
    return this.data.lambdas;
  }

  /** An @aws-sdk/client-iot client for this emulator. */
  iotClient(): IoTClient {
    return new IoTClient({ endpoint: this.apiEndpoint, region: this.iot.account.region, credentials: EMULATOR_CREDENTIALS });
  }

  iotDataClient(): IoTDataPlaneClient {
    return new IoTDataPlaneClient({ endpoint: this.apiEndpoint, region: this.iot.account.region, credentials: EMULATOR_CREDENTIALS });
  }

  setFaults(f: Partial<Faults>): void {
    Object.assign(this.faults, f);
  }

  /** Resolve with the first event (past or future) that matches, or reject after `timeoutMs`. */
  waitForEvent(match: (e: EmulatorEvent) => boolean, timeoutMs = 10_000): Promise<EmulatorEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off("event", on);
        reject(new Error(`no matching emulator event within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (e: EmulatorEvent) => {
        if (!match(e)) return;
        clearTimeout(timer);
        this.off("event", on);
        resolve(e);
      };
      this.on("event", on);
    });
  }

  async stop(): Promise<void> {
    await this.data.close();
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http.close(() => r()));
  }
}
