/**
 * `zt-hil rig power|console|lock`: a person at the bench acting on a real rig the lab file describes,
 * with the suite's own drivers and locks — so a power cycle by hand never lands in the middle of a
 * nightly run (power waits for the rig's lock), and a rig can be held while someone reproduces a field
 * failure on it (lock). Virtual rigs are the twin's: `zt-hil rig virtual` serves their ports.
 */
import { join, resolve } from "node:path";
import type { Command } from "commander";
import type { Lab, Rig } from "../config/lab-schema.ts";
import { ZtError } from "../errors.ts";

interface LabOption {
  lab?: string;
}

/** The lab file (--lab, else ZT_LAB, else rigs/lab.yaml), loaded. */
async function openLab(o: LabOption): Promise<{ lab: Lab; file: string }> {
  const { labFile, loadLab } = await import("../config/load.ts");
  const file = o.lab ? resolve(o.lab) : labFile();
  return { lab: loadLab(file), file };
}

/** The rig of that name in the lab file. */
async function labRig(name: string, o: LabOption): Promise<Rig> {
  const { lab, file } = await openLab(o);
  const rig = lab.rigs.find((r) => r.name === name);
  if (!rig) throw new ZtError(file, `no rig "${name}" (have: ${lab.rigs.map((r) => r.name).join(", ")})`);
  return rig;
}

function milliseconds(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new ZtError(flag, `"${value}" is not a number of milliseconds`);
  return n;
}

export function registerRigBenchCommands(rig: Command): void {
  rig
    .command("power")
    .description("switch a real rig's power (its lab driver: uhubctl, HID relay, command, manual), holding its lock meanwhile")
    .argument("<rig>", "rig name in the lab file")
    .argument("<action>", "on, off or cycle")
    .option("--lab <file>", "lab file (default: ZT_LAB or rigs/lab.yaml)")
    .option("--wait <ms>", "how long to wait for a rig another process holds", "0")
    .action(async (name: string, action: string, o: LabOption & { wait: string }) => {
      if (!["on", "off", "cycle"].includes(action)) throw new ZtError("<action>", `"${action}" is not on, off or cycle`);
      const wait = milliseconds(o.wait, "--wait");
      const r = await labRig(name, o);
      if (r.power.kind === "virtual") throw new ZtError(r.name, "a virtual rig's power is its twin's: send {\"cmd\":\"power\",...} to the control port of `zt-hil rig virtual`");
      const [{ acquireRig, rigLockDir }, { powerDriver }] = await Promise.all([import("../rig/rig-lock.ts"), import("../power/drivers.ts")]);
      const held = await acquireRig([r], rigLockDir(), 0, wait, "--wait");
      try {
        const power = powerDriver(r);
        await (action === "on" ? power.on() : action === "off" ? power.off() : power.cycle());
        console.log(`rig ${r.name}: power ${action === "cycle" ? "cycled" : action} (${power.description})`);
      } finally {
        await held.release();
      }
    });

  rig
    .command("console")
    .description("print a real rig's console as it arrives (Wi-Fi passphrase masked) until interrupted, or until a line matches --until")
    .argument("<rig>", "rig name in the lab file")
    .option("--lab <file>", "lab file (default: ZT_LAB or rigs/lab.yaml)")
    .option("--until <regex>", "exit 0 at the first line matching this")
    .option("--timeout <ms>", "with --until: exit 1 if no line matched within this time")
    .action(async (name: string, o: LabOption & { until?: string; timeout?: string }) => {
      let until: RegExp | null = null;
      try {
        until = o.until ? new RegExp(o.until) : null;
      } catch (err) {
        throw new ZtError("--until", `not a regular expression: ${(err as Error).message}`);
      }
      const timeout = o.timeout === undefined ? null : milliseconds(o.timeout, "--timeout");
      const r = await labRig(name, o);
      if (r.kit.console.kind === "virtual") throw new ZtError(r.name, "a virtual rig's console is served by `zt-hil rig virtual` (its ready line names it); describe it in a lab file as { kind: tcp, port: N }");
      const [{ KitConsole }, { InfrastructureError }] = await Promise.all([import("../console/kit-console.ts"), import("../errors.ts")]);
      let con;
      try {
        con = await KitConsole.open(r);
      } catch (err) {
        throw new InfrastructureError(r.name, (err as Error).message);
      }
      con.hideSecrets([r.wifi.psk]);
      const from = con.mark();
      con.follow((l) => process.stdout.write(`${new Date(l.time).toISOString()} ${l.text}\n`));
      const stop = async (code: number) => {
        await con.close();
        process.exit(code);
      };
      process.once("SIGINT", () => void stop(0));
      process.once("SIGTERM", () => void stop(0));
      console.error(`zt-hil: console of rig ${r.name} (${con.description}); Ctrl-C ends`);
      if (!until) {
        await new Promise<void>((done) => {
          const poll = setInterval(() => con.closed && (clearInterval(poll), done()), 200);
        });
        throw new InfrastructureError(con.description, `closed (${con.closed})`);
      }
      try {
        await con.expect(until, { from, timeoutMs: timeout ?? 2 ** 31 - 1 });
      } catch (err) {
        process.stderr.write(`zt-hil: ${(err as Error).message.split("\n")[0]}\n`);
        await stop(1);
      }
      await stop(0);
    });

  rig
    .command("lock")
    .description("hold a rig's lock until interrupted (the suite's workers then leave it alone), or list who holds each rig")
    .argument("[rig]", "rig name in the lab file")
    .option("--lab <file>", "lab file (default: ZT_LAB or rigs/lab.yaml)")
    .option("--wait <ms>", "how long to wait for a rig another process holds", "0")
    .option("--list", "print each rig of the lab and who holds it")
    .action(async (name: string | undefined, o: LabOption & { wait: string; list?: boolean }) => {
      const { acquireRig, rigHolders, rigLockDir } = await import("../rig/rig-lock.ts");
      if (o.list) {
        const { lab } = await openLab(o);
        for (const h of await rigHolders(lab.rigs, rigLockDir())) console.log(`${h.rig}: ${h.holder}`);
        return;
      }
      if (!name) throw new ZtError("<rig>", "name the rig to lock (or --list)");
      const wait = milliseconds(o.wait, "--wait");
      const r = await labRig(name, o);
      const held = await acquireRig([r], rigLockDir(), 0, wait, "--wait");
      const release = async () => {
        await held.release();
        process.exit(0);
      };
      process.once("SIGINT", () => void release());
      process.once("SIGTERM", () => void release());
      console.log(`zt-hil: rig ${r.name} locked by pid ${process.pid} (${join(rigLockDir(), `${r.name}.lock`)}); Ctrl-C releases it`);
      setInterval(() => undefined, 2 ** 30); // hold on until a signal
    });
}
