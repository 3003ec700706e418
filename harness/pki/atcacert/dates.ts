/**
 * atcacert's 3-byte compressed date: year−2000 (5 bits) | month (4) | day (5) | hour (5) |
 * expire years (5). Minutes and seconds are not stored (certificates are issued on the hour), and
 * expire years 0 means "no expiry", rebuilt as 9999-12-31 23:59:59.
 */
import { CertificateError } from "../../errors.ts";

export interface CompressedDates {
  issue: Date;
  expireYears: number;
}

export const NO_EXPIRY = new Date(Date.UTC(9999, 11, 31, 23, 59, 59));

export function encodeDates(issue: Date, expireYears: number): Buffer {
  const year = issue.getUTCFullYear() - 2000;
  if (year < 0 || year > 31) throw new CertificateError("compressed dates", `issue year ${issue.getUTCFullYear()} is outside 2000–2031`);
  if (expireYears < 0 || expireYears > 31) throw new CertificateError("compressed dates", `expire years ${expireYears} is outside 0–31`);
  const month = issue.getUTCMonth() + 1;
  const day = issue.getUTCDate();
  const hour = issue.getUTCHours();
  return Buffer.from([(year << 3) | (month >> 1), ((month << 7) & 0xff) | (day << 2) | (hour >> 3), ((hour << 5) & 0xff) | expireYears]);
}

export function decodeDates(bytes: Uint8Array): CompressedDates {
  if (bytes.length !== 3) throw new CertificateError("compressed dates", `expected 3 bytes, got ${bytes.length}`);
  const [b0, b1, b2] = [bytes[0]!, bytes[1]!, bytes[2]!];
  const year = 2000 + (b0 >> 3);
  const month = ((b0 & 0x07) << 1) | (b1 >> 7);
  const day = (b1 >> 2) & 0x1f;
  const hour = ((b1 & 0x03) << 3) | (b2 >> 5);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23) {
    throw new CertificateError("compressed dates", `bytes ${Buffer.from(bytes).toString("hex")} decode to an impossible date ${year}-${month}-${day} ${hour}h`);
  }
  return { issue: new Date(Date.UTC(year, month - 1, day, hour)), expireYears: b2 & 0x1f };
}

/** The expiry a compressed certificate implies: issue + N years, or 9999-12-31 23:59:59 for N = 0. */
export function expiryOf(dates: CompressedDates): Date {
  if (dates.expireYears === 0) return NO_EXPIRY;
  const d = new Date(dates.issue);
  d.setUTCFullYear(d.getUTCFullYear() + dates.expireYears);
  return d;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** ASCII RFC 5280 time as it appears inside a DER UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime value. */
export function formatTime(date: Date, kind: "utc" | "generalized"): string {
  const y = date.getUTCFullYear();
  const body = `${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`;
  return kind === "utc" ? `${pad(y % 100)}${body}` : `${pad(y, 4)}${body}`;
}

/** Parse the ASCII value of a DER UTCTime / GeneralizedTime. */
export function parseTime(text: string, where: string): Date {
  const m = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) throw new CertificateError(where, `not an RFC 5280 time: "${text}"`);
  let year = Number(m[1]);
  if (m[1]!.length === 2) year += year >= 50 ? 1900 : 2000;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}
