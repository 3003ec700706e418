/**
 * Names the first field in which two certificates differ ("tbsCertificate.subject",
 * "extension subjectKeyIdentifier", ...) and renders both values, so a certificate that does not fit
 * the kit's template is reported the way a person would fix it, not as a byte offset.
 */
import { children, isConstructed, readTlv, TAG, type Tlv } from "../der.ts";
import { x509 } from "../x509.ts";

const TBS_FIELDS = ["version", "serialNumber", "signature", "issuer", "validity", "subject", "subjectPublicKeyInfo", "extensions"];
const EXTENSIONS: Record<string, string> = {
  "551d0e": "subjectKeyIdentifier",
  "551d23": "authorityKeyIdentifier",
  "551d13": "basicConstraints",
  "551d0f": "keyUsage",
  "551d11": "subjectAltName",
  "551d25": "extKeyUsage",
};

export interface FieldDifference {
  field: string;
  actual: string;
  expected: string;
}

function render(buf: Buffer, tlv: Tlv | undefined, field: string): string {
  if (!tlv) return "(absent)";
  const bytes = buf.subarray(tlv.start, tlv.end);
  if (field.endsWith("issuer") || field.endsWith("subject")) {
    try {
      return `"${new x509.Name(bytes).toString()}"`;
    } catch {
      /* fall through to hex */
    }
  }
  if (tlv.tag === TAG.UTC_TIME || tlv.tag === TAG.GENERALIZED_TIME) {
    return `${tlv.tag === TAG.UTC_TIME ? "UTCTime" : "GeneralizedTime"} ${buf.toString("latin1", tlv.valueStart, tlv.end)}`;
  }
  const hex = bytes.toString("hex");
  return hex.length > 48 ? `${hex.slice(0, 48)}… (${bytes.length} bytes)` : hex;
}

function extensionName(buf: Buffer, ext: Tlv): string {
  const oid = children(buf, ext)[0];
  const hex = oid ? buf.toString("hex", oid.valueStart, oid.end) : "";
  return `extension ${EXTENSIONS[hex] ?? hex}`;
}

function childName(parent: string, buf: Buffer, tlv: Tlv | undefined, i: number): string {
  if (parent === "certificate") return ["tbsCertificate", "signatureAlgorithm", "signatureValue"][i] ?? `[${i}]`;
  if (parent === "tbsCertificate") return `tbsCertificate.${TBS_FIELDS[i] ?? `[${i}]`}`;
  if (parent === "tbsCertificate.validity") return `validity.${["notBefore", "notAfter"][i] ?? `[${i}]`}`;
  if (parent === "tbsCertificate.extensions" || parent === "extensions") return tlv ? extensionName(buf, tlv) : `extension [${i}]`;
  return `${parent}[${i}]`;
}

function descend(field: string): boolean {
  return field === "certificate" || field === "tbsCertificate" || field === "tbsCertificate.validity" || field === "tbsCertificate.extensions" || field === "extensions";
}

function compare(a: Buffer, ta: Tlv | undefined, b: Buffer, tb: Tlv | undefined, field: string): FieldDifference | null {
  if (ta && tb && a.subarray(ta.start, ta.end).equals(b.subarray(tb.start, tb.end))) return null;
  if (!ta || !tb || ta.tag !== tb.tag || !isConstructed(ta) || !descend(field)) {
    return { field, actual: render(a, ta, field), expected: render(b, tb, field) };
  }
  // The extensions field is [3] { SEQUENCE OF Extension }: step through the wrapper.
  if (field === "tbsCertificate.extensions") {
    return compare(a, children(a, ta)[0], b, children(b, tb)[0], "extensions");
  }
  const ca = children(a, ta);
  const cb = children(b, tb);
  for (let i = 0; i < Math.max(ca.length, cb.length); i++) {
    const d = compare(a, ca[i], b, cb[i], childName(field, ca[i] ? a : b, ca[i] ?? cb[i], i));
    if (d) return d;
  }
  return { field, actual: render(a, ta, field), expected: render(b, tb, field) };
}

/** The first differing field between `actual` and `expected` certificate DER, or null if identical. */
export function firstDifference(actual: Buffer, expected: Buffer): FieldDifference | null {
  if (actual.equals(expected)) return null;
  return compare(actual, readTlv(actual, 0), expected, readTlv(expected, 0), "certificate");
}
