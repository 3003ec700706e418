/**
 * The twin's kit-protocol interpreter and JSON application (firmware v2.2.5's parsers) over a powered
 * ATECC508A model, without the USB tick or the UART's time: the fast target for fuzzing what a host can
 * send the kit. Device commands answer as v2.2.5 does (`d:t` gets the after-wake status).
 */
import { AteccClient } from "../kit/atecc-client.ts";
import { Atecc508a } from "../../rigs/virtual-kit/atecc508a/atecc508a.ts";
import { Application, StatusGlobal } from "../../rigs/virtual-kit/firmware/app.ts";
import { FirmwareConsole } from "../../rigs/virtual-kit/firmware/console.ts";
import { Cryptoauthlib } from "../../rigs/virtual-kit/firmware/cryptoauthlib.ts";
import { KitInterpreter } from "../../rigs/virtual-kit/firmware/kit-interpreter.ts";

export function twinInterpreter(): KitInterpreter {
  const chip = new Atecc508a(null, "instant");
  chip.powerOn();
  const cal = new Cryptoauthlib(new AteccClient({ wake: async () => chip.wake(), talk: (p) => chip.execute(p), idle: async () => void chip.idle() }));
  const app = new Application({ cal, status: new StatusGlobal(), console: new FirmwareConsole(() => {}, Infinity), setProvisioningState: () => {} });
  return new KitInterpreter({
    deviceAddress: 0xb0,
    boardApplication: (json) => app.handle(json),
    deviceWake: async () => 0,
    deviceIdle: async () => 0,
    deviceSleep: async () => 0,
    deviceTalk: async () => ({ status: 0, response: Buffer.from("04113343", "hex") }),
  });
}

/** Valid requests to mutate: JSON methods, a device-handle talk, a physical select. */
export function kitProtocolSeeds(): Buffer[] {
  const hex = (j: unknown) => Buffer.from(JSON.stringify(j)).toString("hex");
  return [
    `b:app(${hex({ method: "init", params: { version: "2.0.0" }, id: 1 })})\n`,
    `b:app(${hex({ method: "setWifi", params: { ssid: "zt-lab", psk: null }, id: 2 })})\n`,
    `b:app(${hex({ method: "saveCredentials", params: { hostName: "h", deviceCert: "3003020100", signerCert: "30", signerCaPublicKey: "00".repeat(64) }, id: 3 })})\n`,
    `b:app(${hex({ method: "getStatus", id: 4 })})\n`,
    "d(00000000):t(0730000000037d)\n",
    "e:physical:select(B0)\n",
    "board:get_devices()\n",
  ].map((s) => Buffer.from(s, "latin1"));
}
