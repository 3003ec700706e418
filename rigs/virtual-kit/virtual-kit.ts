/**
 * The digital twin of the Zero Touch kit: the ATECC508A model, the WINC1500 model and firmware v2.2.5,
 * powered on and off as a unit, with the ports a host touches: the kit protocol (USB HID), the EDBG
 * console, and a control surface for what a person does at the bench (power, buttons, looking at LEDs).
 * Non-volatile state (the chip's NVM) lives in the state directory and survives power cycles.
 */
import { EventEmitter } from "node:events";
import { join } from "node:path";
import { interpret } from "./firmware/kit-interpreter.ts";
import { Firmware } from "./firmware/firmware.ts";
import { Atecc508a } from "./atecc508a/atecc508a.ts";
import type { TimingProfile } from "./atecc508a/timing.ts";
import type { WincProfile } from "./winc1500/winc1500.ts";

export interface VirtualKitOptions {
  /** Where the chip's NVM is kept; null: memory only. */
  stateDir: string | null;
  timing?: TimingProfile;
  winc?: WincProfile;
  /** Trusted root certificates (DER) for the cloud's server chain. */
  trust: Buffer[];
  ap?: { ssid: string; psk: string };
  hosts?: Record<string, string>;
}

export interface ConsoleLine {
  time: number;
  text: string;
}

/** USB polling and the firmware's 100 ms task tick: a request waits for the next tick at most. */
const HID_POLL_MS = 100;

export class VirtualKit extends EventEmitter {
  readonly chip: Atecc508a;
  readonly firmware: Firmware;
  readonly consoleLog: ConsoleLine[] = [];
  private hidQueue: Promise<unknown> = Promise.resolve();

  constructor(readonly opts: VirtualKitOptions) {
    super();
    this.chip = new Atecc508a(opts.stateDir ? join(opts.stateDir, "atecc508a.json") : null, opts.timing ?? "datasheet");
    this.firmware = new Firmware(this.chip, { profile: opts.winc ?? "19.4.4", trust: opts.trust, ap: opts.ap ?? { ssid: "zt-lab", psk: "zt-lab-psk" }, ...(opts.hosts ? { hosts: opts.hosts } : {}) }, (text) => {
      const line = { time: Date.now(), text };
      this.consoleLog.push(line);
      this.emit("console", line);
    });
  }

  get powered(): boolean {
    return this.firmware.isPowered;
  }

  power(state: "on" | "off" | "cycle"): void {
    if (state === "off" || state === "cycle") this.firmware.powerOff();
    if (state === "on" || state === "cycle") this.firmware.powerOn();
    this.emit("power", this.powered);
  }

  /** One kit protocol request line → reply line; requests are served one at a time, as USB does. */
  hidRequest(line: string): Promise<string | null> {
    const run = async () => {
      if (!this.powered) return null; // a powered-off kit is not on the bus
      await this.firmware.whenReady();
      await new Promise((r) => setTimeout(r, Math.random() * HID_POLL_MS));
      if (!this.powered) return null;
      return interpret(line, this.firmware.kitDevice, this.firmware.kitBoard);
    };
    const p = this.hidQueue.then(run, run);
    this.hidQueue = p.catch(() => undefined);
    return p;
  }

  press(button: 1 | 2 | 3): Promise<void> {
    return this.firmware.press(button);
  }

  get leds() {
    return { ...this.firmware.leds };
  }
}
