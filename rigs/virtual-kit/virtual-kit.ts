/**
 * The digital twin of the Zero Touch kit: the ATECC508A model, the WINC1500 model and firmware v2.2.5,
 * powered on and off as a unit, with the ports a host touches: the kit protocol (USB HID reports), the
 * EDBG console (the firmware's bytes, and the same split into lines), and a control surface for what a
 * person does at the bench (power, buttons, looking at LEDs).
 * Non-volatile state (the chip's NVM) lives in the state directory and survives power cycles.
 */
import { EventEmitter } from "node:events";
import { join } from "node:path";
import { Firmware } from "./firmware/firmware.ts";
import { Atecc508a } from "./atecc508a/atecc508a.ts";
import type { TimingProfile } from "./atecc508a/timing.ts";
import type { AccessPoint, WincProfile } from "./winc1500/winc1500.ts";

export interface VirtualKitOptions {
  /** Where the chip's NVM is kept; null: memory only. */
  stateDir: string | null;
  timing?: TimingProfile;
  /** The WINC1500 firmware; v2.2.5 requires 19.5.2 (the default). */
  winc?: WincProfile;
  /** Trusted root certificates (DER) for the cloud's server chain. */
  trust: Buffer[];
  ap?: AccessPoint;
  /** The lab's DNS: host name → IPv4 address. The kit connects to that address, port 8883. */
  hosts?: Record<string, string>;
}

export interface ConsoleLine {
  time: number;
  text: string;
}

export class VirtualKit extends EventEmitter {
  readonly chip: Atecc508a;
  readonly firmware: Firmware;
  readonly consoleLog: ConsoleLine[] = [];
  private partial = "";

  constructor(readonly opts: VirtualKitOptions) {
    super();
    this.chip = new Atecc508a(opts.stateDir ? join(opts.stateDir, "atecc508a.json") : null, opts.timing ?? "datasheet");
    const wincOptions = { profile: opts.winc ?? "19.5.2", trust: opts.trust, ap: opts.ap ?? { ssid: "zt-lab", psk: "zt-lab-psk" }, ...(opts.hosts ? { hosts: opts.hosts } : {}) };
    this.firmware = new Firmware(this.chip, wincOptions, (text) => this.consoleOut(text));
    this.firmware.on("hid", (report: Buffer) => this.emit("hid", report));
    this.firmware.on("twin-error", (err: unknown) => this.emit("twin-error", err));
    this.firmware.on("power-cut", () => this.power("off"));
  }

  private consoleOut(text: string): void {
    this.emit("console-bytes", text);
    this.partial += text;
    const parts = this.partial.split("\r\n");
    this.partial = parts.pop()!;
    for (const text of parts) {
      const line = { time: Date.now(), text };
      this.consoleLog.push(line);
      this.emit("console", line);
    }
  }

  get powered(): boolean {
    return this.firmware.isPowered;
  }

  power(state: "on" | "off" | "cycle"): void {
    if (state === "off" || state === "cycle") this.firmware.powerOff();
    if (state === "on" || state === "cycle") this.firmware.powerOn();
    this.emit("power", this.powered);
  }

  /** One 64-byte report from the host (a powered-off kit is not on the bus). */
  hidReport(report: Buffer): void {
    this.firmware.hidReport(report);
  }

  press(button: 1 | 2 | 3): void {
    this.firmware.press(button);
  }

  get leds() {
    return { ...this.firmware.leds };
  }
}
