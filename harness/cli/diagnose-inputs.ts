/** `analyze --diagnose`'s inputs besides the capture: a console log and the cloud's events, read with clear errors. */
import { readFileSync } from "node:fs";
import type { CaptureReport } from "../analysis/analyze-capture.ts";
import type { CloudEvent } from "../cloud/cloud-backend.ts";
import { fileError, ZtError } from "../errors.ts";
import { recognize, type Finding } from "../faults/recognize.ts";

function read(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw fileError(file, `read the ${what}`, err);
  }
}

/** Console lines without the report's "2026-…Z " timestamps. */
function consoleLines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, ""));
}

export function diagnoseFiles(report: CaptureReport, consoleFile?: string, eventsFile?: string): Finding[] {
  let events: CloudEvent[] | undefined;
  if (eventsFile) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(read(eventsFile, "cloud events"));
    } catch (err) {
      if (err instanceof ZtError) throw err;
      throw new ZtError(eventsFile, `not JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(parsed) || parsed.some((e) => typeof e !== "object" || e === null || typeof (e as CloudEvent).type !== "string")) throw new ZtError(eventsFile, "not a list of cloud events ({type, detail, time})");
    events = parsed as CloudEvent[];
  }
  return recognize({ report, ...(consoleFile ? { console: consoleLines(read(consoleFile, "console log")) } : {}), ...(events ? { events } : {}) });
}
