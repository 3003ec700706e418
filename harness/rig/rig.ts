/**
 * A rig opened for use: the lab file says WHERE things are, and this picks the drivers for HOW —
 * kit protocol link (node-hid, or the virtual kit's HID port), console (serialport, TCP), power
 * (virtual, uhubctl, HID relay, command, manual), capture (tcpdump/dumpcap, or the in-line recorder
 * on the kit's path to the cloud). A virtual rig's twin runs inside the worker that holds the rig.
 */
import { pemBundle } from "../pki/cert-io.ts";
import { join } from "node:path";
import type { Rig } from "../config/lab-schema.ts";
import type { CloudBackend } from "../cloud/cloud-backend.ts";
import { KitConsole } from "../console/kit-console.ts";
import type { CaptureSession } from "../capture/capture-session.ts";
import { ToolCapture } from "../capture/live.ts";
import { Recorder } from "../capture/recorder.ts";
import { KitClient } from "../kit/kit-client.ts";
import { getStatus } from "../kit/kit-status.ts";
import { powerDriver } from "../power/drivers.ts";
import type { PowerDriver } from "../power/power-driver.ts";
import { step } from "../steps.ts";
import { jsonLineClient } from "../transport/json-lines.ts";
import { NodeHidReportLink, TcpReportLink } from "../transport/report-link.ts";
import { VirtualKit } from "../../rigs/virtual-kit/virtual-kit.ts";
import { servePorts, type ServedPorts } from "../../rigs/virtual-kit/ports.ts";
import { InfrastructureError } from "../errors.ts";
import { SigrokCapture, type BusCapture } from "../bus/bus-capture.ts";
import { BusTrace } from "../../rigs/virtual-kit/atecc508a/bus-trace.ts";
import { NO_FAULTS, type FaultSettings } from "../faults/catalog.ts";
import { createRootCa } from "../pki/ca.ts";

export interface OpenRig {
  rig: Rig;
  kit: KitClient;
  console: KitConsole;
  power: PowerDriver;
  /**
   * The hostName the kit is provisioned with: a DNS name (v2.2.5 resolves it whole and connects to
   * port 8883). A virtual rig's lab DNS points it at the rig's capture point.
   */
  cloudHostName: string;
  /** A capture of the kit's traffic for one test, writing `file`. */
  capture(file: string): CaptureSession;
  /** A trace of the ATECC's I2C bus for one test, writing `file`; null when the rig has no bus capture. */
  bus(file: string): BusCapture | null;
  /** The virtual kit's control port (buttons, LEDs, faults); null on real rigs. */
  control: ((req: Record<string, unknown>) => Promise<Record<string, unknown>>) | null;
  /**
   * What the reports say about this rig, as the kit told it: rig name and class from the lab file,
   * firmware and WINC versions from the console's boot lines, the kit serial once `init` answered it.
   */
  facts(): Record<string, string>;
  /** Remember a fact learnt from the kit (e.g. "kit serial" after init). */
  learn(name: string, value: string): void;
  close(): Promise<void>;
}

type RigDrivers = Omit<OpenRig, "facts" | "learn">;

/** Facts from the lab file and the latest boot's console lines (every v2.2.5 boot prints both versions). */
function rigFacts(rig: Rig, console: KitConsole, learnt: Map<string, string>): () => Record<string, string> {
  return () => {
    const lastOf = (re: RegExp) => {
      for (let i = console.lines.length - 1; i >= 0; i--) {
        const m = re.exec(console.lines[i]!.text);
        if (m) return m[1]!;
      }
      return undefined;
    };
    const facts: Record<string, string> = { rig: rig.name, "rig class": rig.class, "kit link": rig.kit.transport.kind === "virtual" ? "virtual kit (twin)" : `${rig.kit.transport.kind}` };
    const firmware = lastOf(/^VERSION:\s+(.+)$/);
    const winc = lastOf(/^\s*WINC1500: Firmware Version: (.+)$/);
    if (firmware) facts.firmware = firmware;
    if (winc) facts["WINC firmware"] = winc;
    for (const [k, v] of learnt) facts[k] = v;
    return facts;
  };
}

/** The twin's own I2C trace as a BusCapture: its ATECC model records while the capture runs. */
function twinBusCapture(twin: VirtualKit, file: string): BusCapture {
  let trace: BusTrace | null = null;
  const cap = {
    file,
    format: "vcd" as const,
    channels: { scl: "scl", sda: "sda" },
    startedAt: 0,
    start: async () => {
      trace = new BusTrace();
      cap.startedAt = Date.now();
      twin.chip.trace = trace;
    },
    stop: async () => {
      if (!trace) return;
      twin.chip.trace = null;
      trace.write(file);
      trace = null;
    },
  };
  return cap;
}

async function openVirtual(rig: Rig, cloud: CloudBackend, stateRoot: string, faults: FaultSettings): Promise<RigDrivers> {
  const t = rig.kit.transport;
  if (t.kind !== "virtual") throw new Error("unreachable");
  if (!cloud.serverTrustPem) throw new InfrastructureError(rig.name, `a virtual kit needs a cloud whose server CA it can trust (${cloud.description} gives none)`);
  // The kit reaches the cloud through an in-line recorder, the capture point of a virtual rig, on port
  // 8883 of a loopback address of its own; the twin's lab DNS gives that address for the cloud's name.
  const wire = new Recorder({ target: cloud.mqtt, listenHost: "free-loopback", listenPort: 8883 });
  wire.shape = { ...faults.link };
  await wire.start();
  // Field failures the twin carries (harness/faults/catalog.ts): a root that did not issue the server
  // chain, an AP whose passphrase changed, a DNS without the endpoint.
  const trust = faults.twin.untrustedServer ? [Buffer.from((await createRootCa()).cert.rawData)] : pemBundle(cloud.serverTrustPem, `${cloud.description} server CA`);
  const twin = new VirtualKit({
    stateDir: join(stateRoot, rig.name),
    timing: t.timing,
    winc: rig.kit.winc,
    trust,
    ap: { ssid: rig.wifi.ssid, psk: faults.twin.apPsk ?? rig.wifi.psk },
    hosts: faults.twin.dnsMissing ? {} : { [cloud.endpointName]: wire.address.host },
  });
  twin.chip.faults.slowFactor = faults.twin.ateccSlowFactor;
  twin.firmware.faults.powerCutOn = faults.twin.powerCutOn;
  const ports: ServedPorts = await servePorts(twin, { hid: 0, console: { kind: "tcp", port: 0 }, control: 0 });
  const ctl = await jsonLineClient(ports.control);
  const kit = new KitClient(await TcpReportLink.open("127.0.0.1", ports.hid));
  const console = await KitConsole.open(rig, ports.console.kind === "tcp" ? ports.console.port : ports.console.tcpPort);
  return {
    rig,
    kit,
    console,
    power: powerDriver(rig, ctl.send),
    cloudHostName: cloud.endpointName,
    capture: (file) => ({
      file,
      format: "pcap",
      start: async () => wire.recordTo(file),
      stop: async () => wire.stopRecording(),
    }),
    bus: (file) => (rig.bus ? twinBusCapture(twin, file) : null),
    control: ctl.send,
    close: async () => {
      await ctl.send({ cmd: "power", state: "off" });
      ctl.close();
      await kit.close();
      await console.close();
      await wire.stop();
      await ports.close();
    },
  };
}

async function openReal(rig: Rig, cloud: CloudBackend): Promise<RigDrivers> {
  const t = rig.kit.transport;
  if (t.kind !== "hid") throw new Error("unreachable");
  if (cloud.mqtt.port !== 8883) throw new InfrastructureError(rig.name, `firmware v2.2.5 connects to port 8883 only; ${cloud.description} listens on ${cloud.mqtt.port}`);
  const link = await NodeHidReportLink.open({ ...(t.path ? { path: t.path } : {}), vid: t.vid, pid: t.pid, ...(t.serial ? { serial: t.serial } : {}) });
  const kit = new KitClient(link);
  const console = await KitConsole.open(rig);
  const cap = rig.capture;
  return {
    rig,
    kit,
    console,
    power: powerDriver(rig),
    cloudHostName: cloud.endpointName,
    capture: (file) => {
      if (cap.kind === "recorder") throw new InfrastructureError(rig.name, "a real kit's traffic cannot pass an in-line recorder; use tcpdump or dumpcap on the AP's interface");
      return new ToolCapture({ tool: cap.kind, iface: cap.interface, file, filter: cap.filter ?? `tcp port ${cloud.mqtt.port}` });
    },
    bus: (file) => {
      const b = rig.bus;
      if (!b) return null;
      if (b.kind === "virtual") throw new InfrastructureError(rig.name, "a real kit's bus cannot be traced by the twin; describe the logic analyzer (bus: { kind: sigrok, ... })");
      return new SigrokCapture({ driver: b.driver, ...(b.conn ? { conn: b.conn } : {}), channels: b.channels, samplerate: b.samplerate, file: file.replace(/\.vcd$/, ".sr") });
    },
    control: null,
    close: async () => {
      await kit.close();
      await console.close();
    },
  };
}

/** Open a rig's drivers and check its health: an unhealthy rig is an InfrastructureError. */
export async function openRig(rig: Rig, cloud: CloudBackend, opts: { stateRoot: string; faults?: FaultSettings }): Promise<OpenRig> {
  const faults = opts.faults ?? NO_FAULTS();
  const clean = NO_FAULTS();
  if (rig.kit.transport.kind !== "virtual" && JSON.stringify([faults.twin, faults.link]) !== JSON.stringify([clean.twin, clean.link])) {
    throw new InfrastructureError(rig.name, "ZT_FAULTS asks for twin or link faults, which only a virtual rig can inject (a real rig's faults are its own)");
  }
  let drivers: RigDrivers;
  try {
    drivers = rig.kit.transport.kind === "virtual" ? await openVirtual(rig, cloud, opts.stateRoot, faults) : await openReal(rig, cloud);
  } catch (err) {
    if (err instanceof InfrastructureError) throw err;
    throw new InfrastructureError(rig.name, `cannot open the rig: ${(err as Error).message}`);
  }
  const learnt = new Map<string, string>();
  const open: OpenRig = { ...drivers, facts: rigFacts(rig, drivers.console, learnt), learn: (k, v) => void learnt.set(k, v) };
  open.console.hideSecrets([rig.wifi.psk]);
  await step(`health check of rig ${rig.name}`, async () => {
    try {
      await open.power.on();
      await checkKit(open.kit);
    } catch (err) {
      await open.close().catch(() => undefined);
      throw new InfrastructureError(rig.name, `health check failed: ${(err as Error).message}`);
    }
  });
  // Chip faults start after the health check: the field failure is a secure element that fails later.
  const { crcErrors, wakeFailures } = faults.twin;
  if (open.control && (crcErrors || wakeFailures)) await step(`fault: ATECC CRC errors ${crcErrors}, wake failures ${wakeFailures}`, () => open.control!({ cmd: "fault", crcErrors, wakeFailures }));
  return open;
}

/**
 * Is the kit alive and running the Zero Touch application? Asked only what v2.2.5 answers: `b:v()` is
 * echoed back by v2.2.5 (its version reply is never serialized) — a live kit; a firmware that answers
 * `00(…)` is live too — and one `board:app` call (getStatus, which changes nothing) must come back as
 * JSON. The firmware serves USB only after its ATECC init, so the first request may wait.
 */
export async function checkKit(kit: KitClient): Promise<void> {
  const v = await kit.exchange("b:v()", 15_000);
  if (v !== "b:v()" && !/^00\(/.test(v)) throw new Error(`b:v() answered "${v.slice(0, 60)}", neither v2.2.5's echo nor 00(…)`);
  await getStatus(kit, 15_000);
}
