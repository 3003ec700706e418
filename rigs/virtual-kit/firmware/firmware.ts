/**
 * Firmware v2.2.5 of the Zero Touch kit (MicrochipTech/aws-iot-zero-touch-secure-provisioning-kit,
 * firmware/SAMG55/AWS_IoT_Zero_Touch_SAMG55/src), as the SAM G55 runs it: main() prints the banner and
 * switches the OLED1 LEDs off, then two FreeRTOS tasks share g_provisioning_mutex —
 * - the provisioning task (provisioning_task.c:provisioning_task), 100 ms tick: ATECC detect and init,
 *   the slot-8 poll while unprovisioned (13 block reads every tick), and at most one kit-protocol
 *   message per tick (usb_hid.c keeps one message), dumped to the console before and after it is
 *   handled, under the mutex;
 * - the Wi-Fi task (wifi-task.ts).
 * Power off stops both at once: every wait ends, the chip refuses the old boot's commands, and what the
 * ATECC has written stays written (its NVM is atomic per command).
 */
import { EventEmitter } from "node:events";
import { AteccClient, type AteccPort } from "../../../harness/kit/atecc-client.ts";
import { AteccAsleepError, WAKE_RESPONSE, type Atecc508a } from "../atecc508a/atecc508a.ts";
import type { WincOptions } from "../winc1500/winc1500.ts";
import { ateccCrypto } from "./atecc-crypto.ts";
import { Application, getString, isObject, parsonParse, STATE, STATUS, StatusGlobal } from "./app.ts";
import { FirmwareConsole } from "./console.ts";
import { Cryptoauthlib } from "./cryptoauthlib.ts";
import { SLOT } from "./credentials.ts";
import { KIT_STATUS, KitInterpreter } from "./kit-interpreter.ts";
import { Metadata, SLOT8_SIZE } from "./slot8.ts";
import { UsbHid } from "./usb-hid.ts";
import { WifiTask, type ConnectAttempt, type Leds } from "./wifi-task.ts";

export { STATE } from "./app.ts";
export type { ConnectAttempt } from "./wifi-task.ts";

export const VERSION = "2.2.5";
const VERSION_STRING_LONG = `AWS IoT Zero Touch Demo v${VERSION}`;
const TASK_DELAY_MS = 100;
/** The configured ATECC's I2C address (AWS_ECCx08A_I2C_ADDRESS). */
const DEVICE_ADDRESS = 0xb0;

/** FreeRTOS mutex: FIFO, one holder. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  lock(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const turn = this.tail.then(() => release);
    this.tail = this.tail.then(() => held);
    return turn;
  }
}

/** One power-on of the kit: its tasks, RAM and peripherals; gone at power off. */
class Boot {
  readonly mutex = new Mutex();
  readonly sleepers = new Set<() => void>();
  alive = true;
  sleep(ms: number): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }
  end(): void {
    this.alive = false;
    for (const s of [...this.sleepers]) s();
  }
}

/** The ATECC508A's Write opcode (a power cut during saveCredentials lands on its first slot write). */
const ATECC_WRITE = 0x12;

export class Firmware extends EventEmitter {
  provisioningState: number = STATE.detect;
  readonly status = new StatusGlobal();
  readonly leds: Leds = { led1: "off", led2: "off", led3: "off" };
  readonly console: FirmwareConsole;
  private boot: Boot | null = null;
  private wifi: WifiTask | null = null;
  private readonly usb = new UsbHid();
  private interpreter: KitInterpreter | null = null;
  /** Every boot's connect attempts, in order (the control port's "status"). */
  readonly attempts: ConnectAttempt[] = [];

  constructor(
    private readonly chip: Atecc508a,
    private readonly wincOptions: WincOptions,
    write: (text: string) => void,
  ) {
    super();
    this.console = new FirmwareConsole((text) => this.boot?.alive && write(text));
  }

  get isPowered(): boolean {
    return this.boot?.alive ?? false;
  }

  get wifiState(): number {
    return this.wifi?.state ?? STATE.unknown;
  }

  get buttons() {
    return this.wifi?.buttonStates ?? { button1: "up", button2: "up", button3: "up" };
  }

  /** How many times one shadow delta runs the delta callback now (Paho's accumulated handlers). */
  get deltaHandlers(): number {
    return this.wifi?.subscriptionHandlers ?? 0;
  }

  powerOn(): void {
    if (this.boot?.alive) return;
    const boot = new Boot();
    this.boot = boot;
    this.chip.powerOn();
    const epoch = this.chip.powerEpoch;
    const port: AteccPort = {
      wake: async () => this.onChip(epoch, () => this.chip.wake()),
      talk: (p) => this.onChip(epoch, () => this.chip.execute(p)),
      idle: async () => void this.onChip(epoch, () => this.chip.idle()),
    };
    const cal = new Cryptoauthlib(new AteccClient(port));
    this.provisioningState = STATE.detect;
    this.status.set(STATE.unknown, STATUS.success, "");
    this.usb.reset();
    for (const led of ["led1", "led2", "led3"] as const) this.leds[led] = "off"; // oled1_init
    this.emit("leds", { ...this.leds });
    const app = new Application({ cal, status: this.status, console: this.console, setProvisioningState: (s) => (this.provisioningState = s) });
    this.interpreter = new KitInterpreter({
      deviceAddress: DEVICE_ADDRESS,
      boardApplication: (json) => {
        this.armPowerCut(json);
        return app.handle(json);
      },
      deviceWake: async () => (this.tryChip(epoch, () => this.chip.wake().equals(WAKE_RESPONSE)) ? KIT_STATUS.success : KIT_STATUS.commFail),
      deviceIdle: async () => (this.tryChip(epoch, () => this.chip.idle()) ? KIT_STATUS.success : KIT_STATUS.commFail),
      deviceSleep: async () => (this.tryChip(epoch, () => this.chip.sleep()) ? KIT_STATUS.success : KIT_STATUS.commFail),
      deviceTalk: (data) => this.deviceTalk(epoch, boot, data),
    });
    const wifi = new WifiTask(
      {
        console: this.console,
        status: this.status,
        cal,
        leds: this.leds,
        provisioningState: () => this.provisioningState,
        lock: () => boot.mutex.lock(),
        alive: () => boot.alive,
        sleep: (ms) => boot.sleep(ms),
        emit: (event, detail) => {
          if (event === "attempt") this.attempts.push(detail as ConnectAttempt);
          this.emit(event, detail);
        },
      },
      this.wincOptions,
      ateccCrypto(cal),
    );
    this.wifi = wifi;
    void this.main(boot, cal, wifi);
  }

  /**
   * Field-failure injection, not firmware behaviour: when the host hands the kit the method named in
   * `faults.powerCutOn`, the kit loses power just after that method's first ATECC write starts (the
   * write itself completes: the chip's NVM is atomic per command). One shot.
   */
  readonly faults = { powerCutOn: null as string | null };

  private armPowerCut(json: Buffer): void {
    const method = this.faults.powerCutOn;
    if (!method) return;
    // As the application reads it: parson stops at the end of the object (the buffer has leftovers).
    const command = parsonParse(json.toString("latin1"));
    if (getString(isObject(command) ? command : null, "method") !== method) return;
    this.faults.powerCutOn = null;
    this.chip.onCommand = (opcode) => {
      if (opcode !== ATECC_WRITE) return;
      this.chip.onCommand = null;
      setImmediate(() => this.emit("power-cut"));
    };
  }

  powerOff(): void {
    if (!this.boot?.alive) return;
    this.boot.end();
    this.wifi?.powerOff();
    this.chip.powerOff();
    this.usb.reset();
  }

  private onChip<T>(epoch: number, fn: () => T): T {
    if (this.chip.powerEpoch !== epoch || !this.chip.powered) throw new AteccAsleepError("ATECC508A", "no power (the kit was switched off)");
    return fn();
  }

  /** A bus operation that ACKs or not: false for no power or a NACK. */
  private tryChip(epoch: number, fn: () => boolean): boolean {
    try {
      return this.onChip(epoch, fn);
    } catch {
      return false;
    }
  }

  /**
   * kit_device_talk on v2.2.5: the packet is copied to &packet.opcode and packet.txsize stays 0, so
   * atca_execute_command wakes the chip, sends only the command word address, waits the 1 ms initial
   * poll and reads back what the chip's output buffer holds — the wake status, count 4, which the
   * firmware passes as success [src: provisioning_task.c:kit_device_talk, cal atca_execution.c;
   * that the chip answers its after-wake status to an empty command is inferred]. The chip never sees
   * the host's command.
   */
  private async deviceTalk(epoch: number, boot: Boot, _data: Buffer): Promise<{ status: number; response?: Buffer }> {
    if (!this.tryChip(epoch, () => this.chip.wake().equals(WAKE_RESPONSE))) return { status: KIT_STATUS.commFail };
    await boot.sleep(1);
    let out: Buffer;
    try {
      out = this.onChip(epoch, () => this.chip.readOutput());
    } catch {
      return { status: KIT_STATUS.commFail };
    }
    this.tryChip(epoch, () => this.chip.idle());
    return { status: KIT_STATUS.success, response: out.subarray(0, out[0]) };
  }

  /** One report from the host (usb_hid_report_out_callback); ignored without power. */
  hidReport(report: Buffer): void {
    if (this.boot?.alive) this.usb.report(report);
  }

  /** A button's release edge (the OLED1 pushbutton interrupt). */
  press(button: 1 | 2 | 3): void {
    this.wifi?.press(button);
  }

  private async main(boot: Boot, cal: Cryptoauthlib, wifi: WifiTask): Promise<void> {
    await this.console.version(VERSION_STRING_LONG);
    void this.guard(boot, () => wifi.run());
    await this.guard(boot, () => this.provisioningTask(boot, cal));
  }

  /** A task that a twin bug stops reports it; the process goes on. */
  private async guard(boot: Boot, task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (err) {
      if (boot.alive) this.emit("twin-error", err);
    }
  }

  private async provisioningTask(boot: Boot, cal: Cryptoauthlib): Promise<void> {
    while (boot.alive) {
      try {
        await this.provisioningStep(cal);
        const message = this.usb.message;
        if (this.provisioningState > STATE.init && message) await this.serveUsb(boot, message);
      } catch (err) {
        if (!boot.alive) return;
        this.emit("twin-error", err);
      }
      await boot.sleep(TASK_DELAY_MS);
    }
  }

  /** One kit-protocol message, under the mutex, dumped before and after (provisioning_task.c:1614-1646). */
  private async serveUsb(boot: Boot, message: Buffer): Promise<void> {
    const release = await boot.mutex.lock();
    try {
      if (!boot.alive) return;
      await this.console.dumpMessage("Incoming Kit Protocol command message:", message);
      const response = await this.interpreter!.handle(message);
      await this.console.dumpMessage("Outgoing Kit Protocol response message:", response);
      await this.sendResponse(boot, response);
    } finally {
      this.usb.done();
      release();
    }
  }

  /** usb_send_response_message: 64-byte reports padded with zeros, 5 ms apart. */
  private async sendResponse(boot: Boot, response: Buffer): Promise<void> {
    for (let at = 0; at < response.length; at += 64) {
      if (!boot.alive) return;
      if (at > 0) await boot.sleep(5);
      const report = Buffer.alloc(64);
      response.copy(report, 0, at, Math.min(response.length, at + 64));
      this.emit("hid", report);
    }
  }

  private async provisioningStep(cal: Cryptoauthlib): Promise<void> {
    const c = this.console;
    switch (this.provisioningState) {
      case STATE.detect:
        await this.detect(cal);
        break;
      case STATE.init:
        if (await this.cryptoauthlibInit(cal)) {
          this.status.set(STATE.configure, STATUS.success, "The AWS IoT Zero Touch Demo ATECCx08A init was successful.");
          await c.warning("The ATECCx08A device has not been provisioned. Waiting ...");
          this.provisioningState = STATE.configure;
        } else {
          this.status.set(STATE.init, STATUS.ateccInitFailure, "The AWS IoT Zero Touch Demo ATECCx08A init was not successful.");
          await c.error("An ATECCx08A initialization error has occurred.");
          await c.error("Stopping the AWS IoT demo.");
          this.provisioningState = STATE.unknown;
        }
        break;
      case STATE.configure: {
        let provisioned = false;
        try {
          provisioned = new Metadata(await cal.readBytes(SLOT.metadata, SLOT8_SIZE)).provisioned;
        } catch {
          provisioned = false;
        }
        if (!provisioned) break;
        await c.success("The ATECCx08A device has been successfully provisioned.");
        this.status.set(STATE.provisioned, STATUS.success, "The AWS IoT Zero Touch Demo ATECCx08A device has been successfully provisioned.");
        const w = this.wifiState;
        if (w > STATE.wifiDisconnect && w !== STATE.awsDisconnect) this.wifi!.state = STATE.awsDisconnect;
        else this.provisioningState = STATE.provisioned;
        break;
      }
      case STATE.provisionReset:
        this.wifi!.state = STATE.awsDisconnect;
        this.provisioningState = STATE.configure;
        break;
      default:
        break;
    }
  }

  /** ecc_configure.c:detect_crypto_device: the configuration zone read at the configured address. */
  private async detect(cal: Cryptoauthlib): Promise<void> {
    const c = this.console;
    try {
      await cal.atecc.configZone();
      this.provisioningState = STATE.init;
      return;
    } catch (err) {
      if (!this.boot?.alive) return;
      this.status.set(STATE.unknown, STATUS.ateccInitFailure, "The AWS IoT Zero Touch Demo ATECCx08A pre-config has not completed.");
      if (/CRC/.test(String(err))) {
        await c.error("Unconfigured CryptoAuth board connected while WINC1500 connected.");
        await c.error("Please disconnect WINC1500 and restart the demo.");
      } else {
        await c.error("No attached CryptoAuth board detected.");
        await c.error("Please check your hardware configuration.");
      }
      await c.error("Stopping the AWS IoT demo.");
      this.provisioningState = STATE.unknown;
    }
  }

  /** provisioning_task.c:cryptoauthlib_init: wake/sleep, both lock checks, Info (revision 0x50: 508A). */
  private async cryptoauthlibInit(cal: Cryptoauthlib): Promise<boolean> {
    const c = this.console;
    try {
      const config = await cal.atecc.configZone();
      if (config[87] !== 0x00) await c.error("The ATECCx08A Config Zone is not locked.");
      if (config[86] !== 0x00) await c.error("The ATECCx08A Data Zone is not locked.");
      const revision = await cal.info();
      if (revision[2]! < 0x50) {
        await c.error("Unsupported device type detected.  Check your hardware configuration.");
        return false;
      }
      return true;
    } catch {
      return false;
    }
  }
}
