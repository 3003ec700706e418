/**
 * Replace a file so that a crash or a power cut at any moment leaves either its old or its new
 * content, never a mix: write a temporary file beside it, fsync, rename over it.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o600): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", mode);
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/**
 * Remove the temporary files a killed writer left beside `file` (`file.<pid>.tmp`); the file itself is
 * whole (old or new). Call it once when the owner of `file` starts.
 */
export function removeStaleTemps(file: string): void {
  const dir = dirname(file);
  const stem = basename(file);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith(`${stem}.`) && /\.\d+\.tmp$/.test(n)) rmSync(join(dir, n), { force: true });
}
