/**
 * Files a CLI command writes (certificates, reports): errors on the output path are as clean as those
 * on input paths — one line naming the file and the errno in words, exit 2 — and an existing directory
 * is never written over.
 */
import { writeFileSync } from "node:fs";
import { fileError } from "../errors.ts";

export function writeOutput(file: string, data: string | Buffer, mode = 0o644): void {
  try {
    writeFileSync(file, data, { mode });
  } catch (err) {
    throw fileError(file, "write the output file", err);
  }
}
