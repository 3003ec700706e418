/**
 * Latency budgets (rigs/budgets.yaml), one set per rig class: real kits and virtual twins with
 * different timing profiles are held to different numbers, and a spec reads only its rig's class.
 * All figures are milliseconds.
 */
import { z } from "zod";

const ms = z.number().positive();

/** A distribution budget: each given statistic must be at or under its figure. */
export const Budget = z
  .object({ p50: ms.optional(), p95: ms.optional(), max: ms.optional() })
  .refine((b) => b.p50 !== undefined || b.p95 !== undefined || b.max !== undefined, "at least one of p50, p95, max");

/** ATECC508A commands timed on the I2C bus (execution time: command written → first ACKed read). */
export const ATECC_OPERATIONS = ["sign", "verify", "ecdh", "genkey", "nonce", "random", "read", "write", "sha", "info"] as const;
/**
 * The kit's JSON methods whose round trip a host can time on firmware v2.2.5 (its `d:t` never reaches
 * the chip): init (serial number, GenKey public), genCsr (GenKey public, Random, Nonce, Sign), genKey
 * (GenKey, slot-8 write) — each with the firmware's USB tick and console dumps in it.
 */
export const KIT_METHODS = ["init", "genCsr", "genKey"] as const;
export const HANDSHAKE_PHASES = [
  "clientHelloToServerHelloDone",
  "serverHelloDoneToClientCertificate",
  "clientCertificateToClientKeyExchange",
  "clientKeyExchangeToCertificateVerify",
  "certificateVerifyToFinished",
  "total",
] as const;

export const BudgetClass = z.object({
  atecc: z.partialRecord(z.enum(ATECC_OPERATIONS), Budget).default({}),
  kitMethods: z.partialRecord(z.enum(KIT_METHODS), Budget).default({}),
  handshake: z.partialRecord(z.enum(HANDSHAKE_PHASES), Budget).default({}),
  jitr: z.object({ firstAttemptToSubscribed: Budget.optional() }).default({}),
});

export const Budgets = z.object({
  version: z.literal(1),
  classes: z.record(z.string().min(1), BudgetClass),
});

export type Budget = z.infer<typeof Budget>;
export type BudgetClass = z.infer<typeof BudgetClass>;
export type Budgets = z.infer<typeof Budgets>;
