/**
 * `zt-hil rig virtual`: run one virtual kit with its ports on loopback until interrupted. Prints one line
 * containing "ready" with the ports (actual numbers when 0 was asked for).
 */
import { isIPv4 } from "node:net";
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { ZtError } from "../errors.ts";
import { registerRigBenchCommands } from "./rig-bench-commands.ts";

function endpoint(value: string, flag: string, allowPty: boolean): { kind: "tcp"; port: number } | { kind: "pty"; path: string } {
  const tcp = /^tcp:(\d+)$/.exec(value);
  if (tcp && Number(tcp[1]) <= 65535) return { kind: "tcp", port: Number(tcp[1]) };
  if (allowPty && value.startsWith("pty:") && value.length > 4) return { kind: "pty", path: value.slice(4) };
  throw new ZtError(flag, `"${value}" is not ${allowPty ? "tcp:PORT or pty:PATH" : "tcp:PORT"}`);
}

async function readTrust(file: string): Promise<Buffer[]> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ZtError(file, `cannot read trust file: ${(err as NodeJS.ErrnoException).code}`);
  }
  const { pemBundle } = await import("../pki/cert-io.ts");
  return pemBundle(text, file);
}

export function registerRigCommand(program: Command): void {
  const rig = program.command("rig").description("rigs: run a virtual kit; power, watch or lock a lab rig");
  registerRigBenchCommands(rig);
  rig
    .command("virtual")
    .description("run a virtual Zero Touch kit (ATECC508A, WINC1500, firmware v2.2.5) on loopback ports")
    .requiredOption("--state-dir <dir>", "where the kit's non-volatile state lives")
    .option("--hid <tcp:PORT>", "kit protocol as raw 64-byte HID reports over TCP", "tcp:0")
    .option("--console <tcp:PORT|pty:PATH>", "EDBG console as TCP, or a pty made with socat", "tcp:0")
    .option("--control <tcp:PORT>", "control port (newline-delimited JSON)", "tcp:0")
    .option("--timing <profile>", "ATECC timing: datasheet, typical or instant", "datasheet")
    .option("--firmware <version>", "kit firmware: 2.2.5 (the published Zero Touch firmware)", "2.2.5")
    .option("--winc <version>", "WINC1500 firmware profile: 19.5.2 (what v2.2.5 requires), 19.4.4 (the seed capture) or 19.6", "19.5.2")
    .option("--dns <name=address>", "a name in the lab DNS (repeatable); the kit connects to address:8883", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("--trust <file>", "PEM root certificate(s) the WINC trusts for the cloud's server chain")
    .option("--ap-ssid <ssid>", "the lab access point's SSID", "zt-lab")
    .option("--ap-psk <psk>", "the lab access point's WPA2 passphrase", "zt-lab-psk")
    .option("--power <state>", "power state at start: on or off", "on")
    .option("--bus-trace <file>", "record the ATECC's I2C bus from start to exit and write it there as a VCD")
    .action(async (o: { stateDir: string; hid: string; console: string; control: string; timing: string; firmware: string; winc: string; dns: string[]; trust?: string; apSsid: string; apPsk: string; power: string; busTrace?: string }) => {
      if (!["datasheet", "typical", "instant"].includes(o.timing)) throw new ZtError("--timing", `"${o.timing}" is not datasheet, typical or instant`);
      if (o.firmware !== "2.2.5") throw new ZtError("--firmware", `"${o.firmware}" is not a firmware the twin models (2.2.5)`);
      const { WINC_PROFILES } = await import("../../rigs/virtual-kit/winc1500/winc1500.ts");
      const winc = WINC_PROFILES.find((p) => p === o.winc);
      if (!winc) throw new ZtError("--winc", `"${o.winc}" is not ${WINC_PROFILES.join(", ")}`);
      const hosts: Record<string, string> = {};
      for (const d of o.dns) {
        const m = /^([A-Za-z0-9.-]{1,64})=(\d{1,3}(?:\.\d{1,3}){3})$/.exec(d);
        if (!m || !isIPv4(m[2]!)) throw new ZtError("--dns", `"${d}" is not NAME=IPv4-ADDRESS`);
        hosts[m[1]!] = m[2]!;
      }
      if (o.power !== "on" && o.power !== "off") throw new ZtError("--power", `"${o.power}" is not on or off`);
      const hid = endpoint(o.hid, "--hid", false);
      const consoleSpec = endpoint(o.console, "--console", true);
      const control = endpoint(o.control, "--control", false);
      const trust = o.trust ? await readTrust(o.trust) : [];
      const { VirtualKit } = await import("../../rigs/virtual-kit/virtual-kit.ts");
      const { servePorts } = await import("../../rigs/virtual-kit/ports.ts");
      const kit = new VirtualKit({ stateDir: o.stateDir, timing: o.timing as "datasheet", winc, trust, ap: { ssid: o.apSsid, psk: o.apPsk }, hosts });
      const ports = await servePorts(kit, { hid: hid.kind === "tcp" ? hid.port : 0, console: consoleSpec, control: control.kind === "tcp" ? control.port : 0 });
      if (o.busTrace) {
        const { BusTrace } = await import("../../rigs/virtual-kit/atecc508a/bus-trace.ts");
        kit.chip.trace = new BusTrace();
      }
      if (o.power === "on") kit.power("on");
      const consoleText = ports.console.kind === "pty" ? `pty:${ports.console.path}` : `tcp:127.0.0.1:${ports.console.port}`;
      const stop = async () => {
        kit.power("off");
        if (o.busTrace && kit.chip.trace) kit.chip.trace.write(o.busTrace);
        await ports.close();
        process.exit(0);
      };
      // Handlers first: a signal that arrives right after the ready line must find them installed.
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      console.log(`zt-hil virtual kit ready: hid tcp:127.0.0.1:${ports.hid} console ${consoleText} control tcp:127.0.0.1:${ports.control} firmware ${o.firmware} winc ${winc} timing ${o.timing}`);
    });
}
