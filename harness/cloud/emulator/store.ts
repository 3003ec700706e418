/**
 * The emulator's registry: CA certificates, device certificates, policies and their attachments,
 * things and thing types, topic rules, shadows and the account's registration code. Persisted as one
 * JSON document in the data directory, written atomically (temporary file, fsync, rename), so a crash
 * or a kill at any moment leaves the previous or the new state, never a torn file. Without a data
 * directory it lives in memory only. Every map keyed by a name or id has no prototype (json-data.ts).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { removeStaleTemps, writeFileAtomic } from "../../atomic-file.ts";
import { ZtError } from "../../errors.ts";
import { dict, parseData } from "./json-data.ts";

export type CertStatus = "ACTIVE" | "INACTIVE" | "REVOKED" | "PENDING_TRANSFER" | "REGISTER_INACTIVE" | "PENDING_ACTIVATION";
export type CaStatus = "ACTIVE" | "INACTIVE";

export interface CaRecord {
  id: string;
  pem: string;
  status: CaStatus;
  autoRegistration: "ENABLE" | "DISABLE";
  mode: "DEFAULT" | "SNI_ONLY";
  created: number;
  modified: number;
  generation: number;
}

export interface CertRecord {
  id: string;
  pem: string;
  status: CertStatus;
  caId: string | null;
  mode: "DEFAULT" | "SNI_ONLY";
  created: number;
  modified: number;
  generation: number;
}

export interface PolicyRecord {
  name: string;
  document: string;
  created: number;
  modified: number;
  generation: number;
}

export interface ThingRecord {
  name: string;
  id: string;
  type: string | null;
  attributes: Record<string, string>;
  version: number;
  principals: string[];
}

export interface RuleRecord {
  name: string;
  sql: string;
  description?: string;
  actions: unknown[];
  disabled: boolean;
  sqlVersion: string;
  created: number;
}

export interface ShadowRecord {
  state: { desired?: Record<string, unknown>; reported?: Record<string, unknown> };
  metadata: { desired?: Record<string, unknown>; reported?: Record<string, unknown> };
  version: number;
  timestamp: number;
}

export interface State {
  registrationCode: string;
  cas: Record<string, CaRecord>;
  certs: Record<string, CertRecord>;
  policies: Record<string, PolicyRecord>;
  /** policy name → principals / targets (certificate ARNs). */
  policyTargets: Record<string, string[]>;
  thingTypes: Record<string, { name: string; id: string; created: number; properties: Record<string, unknown> }>;
  things: Record<string, ThingRecord>;
  rules: Record<string, RuleRecord>;
  shadows: Record<string, ShadowRecord>;
}

export class StoreError extends ZtError {}

function emptyState(): State {
  return { registrationCode: randomBytes(32).toString("hex"), cas: dict(), certs: dict(), policies: dict(), policyTargets: dict(), thingTypes: dict(), things: dict(), rules: dict(), shadows: dict() };
}

export class Store {
  readonly state: State;
  private readonly file: string | null;

  /** `dataDir` null: in memory only. */
  constructor(dataDir: string | null) {
    this.file = dataDir ? join(dataDir, "registry.json") : null;
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    if (this.file) removeStaleTemps(this.file);
    this.state = this.file ? this.load(this.file) : emptyState();
    if (this.file) this.save();
  }

  private load(file: string): State {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return emptyState();
      throw new StoreError(file, `cannot read: ${(err as NodeJS.ErrnoException).code}`);
    }
    try {
      return { ...emptyState(), ...parseData<State>(text) };
    } catch (err) {
      throw new StoreError(file, `not valid JSON (${(err as Error).message}); move it away to start with an empty registry`);
    }
  }

  /** Write the whole state atomically. Called after every change. */
  save(): void {
    if (this.file) writeFileAtomic(this.file, JSON.stringify(this.state));
  }
}
