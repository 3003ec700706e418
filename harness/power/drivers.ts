/**
 * Power bindings (the contract is in power-driver.ts). The virtual one sends JSON to the twin's control
 * port; uhubctl and external commands run as child processes; the HID relay speaks the common
 * "USBRelay" report (0xFF on / 0xFD off, channel); manual asks a person on the terminal.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Rig } from "../config/lab-schema.ts";
import { step } from "../steps.ts";
import { PowerError, type PowerDriver } from "./power-driver.ts";

const OFF_PAUSE_MS = 1000;

/** Run a switching command; a failure names the command line and what it said (uhubctl says it on stdout). */
function runCommand(cmd: string, args: string[], what: string, explain: (output: string) => string | null = () => null, shown = [cmd, ...args].join(" ")): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", (err) => reject(new PowerError(what, `cannot run ${cmd}: ${err.message}`)));
    child.on("exit", (code) => {
      if (code === 0) return resolve();
      const said = output.trim().split("\n")[0] ?? "";
      reject(new PowerError(what, `\`${shown}\` exited ${code}: ${explain(output) ?? (said || "(no output)")}`));
    });
  });
}

abstract class BaseDriver implements PowerDriver {
  abstract readonly description: string;
  protected abstract set(state: "on" | "off"): Promise<void>;
  on(): Promise<void> {
    return step(`power on (${this.description})`, () => this.set("on"));
  }
  off(): Promise<void> {
    return step(`power off (${this.description})`, () => this.set("off"));
  }
  async cycle(): Promise<void> {
    await step(`power cycle (${this.description})`, async () => {
      await this.set("off");
      await new Promise((r) => setTimeout(r, this.pauseMs));
      await this.set("on");
    });
  }
  protected pauseMs = OFF_PAUSE_MS;
}

/** The virtual kit: {"cmd":"power",...} on its control port. */
export class VirtualPower extends BaseDriver {
  readonly description: string;
  protected override pauseMs = 50;
  constructor(private readonly send: (req: Record<string, unknown>) => Promise<Record<string, unknown>>, name: string) {
    super();
    this.description = `virtual ${name}`;
  }
  protected async set(state: "on" | "off"): Promise<void> {
    const r = await this.send({ cmd: "power", state });
    if (r.ok !== true) throw new PowerError(this.description, `control port refused: ${String(r.error)}`);
  }
}

export class UhubctlPower extends BaseDriver {
  readonly description: string;
  constructor(private readonly hub: string, private readonly port: number) {
    super();
    this.description = `uhubctl hub ${hub} port ${port}`;
  }
  /** The command line for a state: the hub by its location (`-l 1-1.4`), one port, the action. */
  commandLine(state: "on" | "off"): string[] {
    return ["uhubctl", "-l", this.hub, "-p", String(this.port), "-a", state];
  }
  protected set(state: "on" | "off"): Promise<void> {
    const [cmd, ...args] = this.commandLine(state);
    return runCommand(cmd!, args, this.description, (out) =>
      /No compatible devices detected/.test(out) ? `no hub with per-port power switching at location ${this.hub} (is the hub attached, is it one uhubctl supports, may this user write to it?): "${out.trim().split("\n")[0]}"` : null,
    );
  }
}

export class CommandPower extends BaseDriver {
  readonly description = "external command";
  constructor(private readonly commands: { on: string; off: string }) {
    super();
  }
  protected set(state: "on" | "off"): Promise<void> {
    return runCommand("sh", ["-c", this.commands[state]], `${this.description} (${state})`, undefined, this.commands[state]);
  }
}

export class HidRelayPower extends BaseDriver {
  readonly description: string;
  constructor(private readonly sel: { vid: number; pid: number; serial?: string; channel: number }) {
    super();
    this.description = `HID relay ${sel.vid.toString(16)}:${sel.pid.toString(16)} channel ${sel.channel}`;
  }
  protected async set(state: "on" | "off"): Promise<void> {
    const HID = await import("node-hid");
    const info = (await HID.devicesAsync(this.sel.vid, this.sel.pid)).find((d) => !this.sel.serial || d.serialNumber === this.sel.serial);
    if (!info?.path) throw new PowerError(this.description, "relay not attached");
    const dev = await HID.HIDAsync.open(info.path);
    try {
      await dev.sendFeatureReport([0x00, state === "on" ? 0xff : 0xfd, this.sel.channel, 0, 0, 0, 0, 0, 0]);
    } finally {
      await dev.close();
    }
  }
}

/** A person switches the rig: the harness asks on the terminal and waits for Enter. */
export class ManualPower extends BaseDriver {
  readonly description = "manual";
  protected async set(state: "on" | "off"): Promise<void> {
    if (!process.stdin.isTTY) throw new PowerError(this.description, `power ${state} needs a person at a terminal (no TTY on stdin)`);
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    await new Promise<void>((resolve) => rl.question(`Switch the rig ${state.toUpperCase()}, then press Enter… `, () => resolve()));
    rl.close();
  }
}

export function powerDriver(rig: Rig, virtualControl?: (req: Record<string, unknown>) => Promise<Record<string, unknown>>): PowerDriver {
  const p = rig.power;
  switch (p.kind) {
    case "virtual":
      if (!virtualControl) throw new PowerError(rig.name, "virtual power needs a virtual kit");
      return new VirtualPower(virtualControl, rig.name);
    case "uhubctl":
      return new UhubctlPower(p.hub, p.port);
    case "command":
      return new CommandPower(p);
    case "hid-relay":
      return new HidRelayPower({ vid: p.vid, pid: p.pid, channel: p.channel, ...(p.serial ? { serial: p.serial } : {}) });
    case "manual":
      return new ManualPower();
  }
}
