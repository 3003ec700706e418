/**
 * The lab inventory schema (rigs/lab.yaml). Following labgrid, a rig description says WHERE things are
 * (which HID device, which serial port, which hub port, which interface); the drivers in harness/
 * decide HOW to act on them. Real and virtual rigs share one shape, so a spec never knows which it got.
 */
import { z } from "zod";

const hex16 = z
  .union([z.number().int().min(0).max(0xffff), z.string().regex(/^(0x)?[0-9a-fA-F]{1,4}$/, "a 16-bit hex id such as 0x04d8")])
  .transform((v) => (typeof v === "number" ? v : parseInt(v.replace(/^0x/, ""), 16)));

const hostPort = z.object({ host: z.string().min(1).default("127.0.0.1"), port: z.number().int().min(1).max(65535) });

/** How the host reaches the kit's HID application protocol (TARGET USB). */
export const KitTransport = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("virtual"), timing: z.enum(["datasheet", "typical", "instant"]).default("datasheet") }),
  z.object({
    kind: z.literal("hid"),
    vid: hex16.default(0x04d8),
    pid: hex16.default(0x0f32),
    serial: z.string().optional(),
    path: z.string().optional(),
  }),
]);

/** Where the EDBG debug console (115200 8N1) can be read. */
export const ConsoleTransport = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("virtual") }),
  z
    .object({
      kind: z.literal("serial"),
      path: z.string().optional(),
      usbSerial: z.string().optional(),
      baudRate: z.number().int().positive().default(115200),
    })
    .refine((s) => s.path !== undefined || s.usbSerial !== undefined, "a serial console needs path or usbSerial"),
  hostPort.extend({ kind: z.literal("tcp") }),
]);

/** How the rig's power is switched. */
export const Power = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("virtual") }),
  z.object({ kind: z.literal("uhubctl"), hub: z.string().min(1), port: z.number().int().positive() }),
  z.object({
    kind: z.literal("hid-relay"),
    vid: hex16.default(0x16c0),
    pid: hex16.default(0x05df),
    serial: z.string().optional(),
    channel: z.number().int().min(1).max(8),
  }),
  z.object({ kind: z.literal("command"), on: z.string().min(1), off: z.string().min(1) }),
  z.object({ kind: z.literal("manual") }),
]);

/** How the kit's traffic is recorded. */
export const Capture = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("recorder") }),
  z.object({
    kind: z.enum(["tcpdump", "dumpcap"]),
    interface: z.string().min(1),
    filter: z.string().optional(),
  }),
]);

/**
 * Where the SAM G55 ↔ ATECC508A I2C bus is recorded: a logic analyzer through sigrok-cli (driver, the
 * channels wired to SCL and SDA, at least 4 MHz for the kit's 400 kHz bus), or the virtual kit's own trace.
 */
export const Bus = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("virtual") }),
  z.object({
    kind: z.literal("sigrok"),
    driver: z.string().min(1),
    conn: z.string().optional(),
    channels: z.object({ scl: z.string().min(1), sda: z.string().min(1) }),
    samplerate: z.number().int().min(4_000_000, "at least 4 MHz for a 400 kHz I2C bus"),
  }),
]);

/** A DNS name a kit can be given: v2.2.5 passes it whole to the WINC's resolver (at most 64 characters, no port). */
const HostName = z
  .string()
  .max(64, "the WINC driver refuses host names over 64 characters")
  .regex(/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/, "a DNS name (no port: the kit always connects to 8883)");

/** Which IoT backend the suite talks to. */
export const Cloud = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("emulator"),
    tlsStack: z.enum(["aws", "openssl"]).default("aws"),
    dataDir: z.string().optional(),
    /** The ATS endpoint name kits are provisioned with; each virtual rig's lab DNS points it at its capture point. */
    endpoint: HostName.default("ats.iot.zt-hil.test"),
    /** The customer's JITR Lambda (Node.js or Python file, relative to the lab file's folder or absolute), run unchanged. */
    jitrLambda: z.object({ file: z.string().min(1), timeoutMs: z.number().int().positive().default(3000) }).optional(),
  }),
  z.object({
    kind: z.literal("remote-emulator"),
    apiEndpoint: z.string().url(),
    /** Where the harness and capture points reach the emulator's MQTT port. */
    mqttEndpoint: z.string().regex(/^[^:]+:\d+$/, "host:port"),
    /** The name kits are provisioned with (port 8883); default: mqttEndpoint's host. */
    endpointName: HostName.optional(),
    serverCaFile: z.string().min(1),
  }),
  /** The emulator image (scripts/docker-lab up builds it) in a container testcontainers starts, one per worker. */
  z.object({
    kind: z.literal("container"),
    image: z.string().min(1).default("zt-hil/emulator:latest"),
    endpoint: HostName.default("ats.iot.zt-hil.test"),
  }),
  z.object({ kind: z.literal("aws"), region: z.string().min(1), profile: z.string().optional() }),
]);

export const Rig = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "lowercase letters, digits and dashes"),
  /**
   * The rig's place in the matrix (harness/config/variants.ts): default `<generation>/<winc>`. Rigs of one
   * variant form a pool; every spec runs once per variant.
   */
  variant: z.string().regex(/^[a-z0-9][a-z0-9./-]*$/, "lowercase letters, digits, dots, slashes and dashes").optional(),
  /** Budget class in budgets.yaml that applies to this rig. */
  class: z.string().min(1),
  kit: z.object({
    transport: KitTransport,
    console: ConsoleTransport,
    /** The kit generation: the Zero Touch kit (AT88CKECC-AWS-XSTK-B). */
    generation: z.enum(["zt-kit"]).default("zt-kit"),
    /** The kit's firmware; the twin models v2.2.5 (the only published Zero Touch firmware for this kit). */
    firmware: z.enum(["2.2.5"]).default("2.2.5"),
    /** The WINC1500 firmware: 19.5.2 is what v2.2.5 requires; 19.4.4 is the seed capture's; 19.6 is newer. */
    winc: z.enum(["19.5.2", "19.4.4", "19.6"]).default("19.5.2"),
  }),
  power: Power,
  capture: Capture,
  /** Optional: the ATECC's I2C bus (per-operation chip latency). */
  bus: Bus.optional(),
  wifi: z.object({ ssid: z.string().min(1).max(32), psk: z.string().min(8).max(63).nullable() }).default({
    ssid: "zt-lab",
    psk: "zt-lab-psk",
  }),
});

export const Lab = z
  .object({
    version: z.literal(1),
    cloud: Cloud,
    pki: z.object({ dir: z.string().default(".zt-hil/pki"), signerId: z.string().regex(/^[0-9A-Fa-f]{4}$/).optional() }).default({
      dir: ".zt-hil/pki",
    }),
    rigs: z.array(Rig).min(1),
  })
  .superRefine((lab, ctx) => {
    const seen = new Set<string>();
    lab.rigs.forEach((rig, i) => {
      if (seen.has(rig.name)) ctx.addIssue({ code: "custom", path: ["rigs", i, "name"], message: `duplicate rig name "${rig.name}"` });
      seen.add(rig.name);
    });
  });

export type Lab = z.infer<typeof Lab>;
export type Rig = z.infer<typeof Rig>;
