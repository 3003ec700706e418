/**
 * The kit's certificate definitions (cryptoauthlib atcacert): a template certificate plus the places in
 * it that vary per device. The firmware rebuilds the device and signer certificates from 72-byte
 * compressed forms by patching these places; everything else must be byte-for-byte the template.
 *
 * The offsets are derived by walking the template DER (templates/*.der are the templates compiled into
 * firmware v2.2.5) rather than copied as numbers, and a test checks them against the firmware's
 * published definition of the device certificate.
 */
import { readFileSync } from "node:fs";
import { CertificateError } from "../../errors.ts";
import { children, readTlv, TAG, type Tlv } from "../der.ts";

export interface Element {
  offset: number;
  count: number;
}

export type TimeFormat = "utc" | "generalized";

/** atcacert serial-number sources used by the kit (the compressed form stores the code). */
export const SERIAL_SOURCE = { stored: 0x0, pubKeyHash: 0xa } as const;
export type SerialSource = keyof typeof SERIAL_SOURCE;

export type CertKind = "device" | "signer";

export interface CertDefinition {
  kind: CertKind;
  templateId: number;
  chainId: number;
  serialSource: SerialSource;
  /** Expire years written into the compressed dates. */
  expireYears: number;
  template: Buffer;
  tbs: Element;
  /** X‖Y inside the subjectPublicKeyInfo BIT STRING. */
  publicKey: Element;
  /** The signatureValue BIT STRING (TLV start; up to 75 bytes as DER varies in length). */
  signature: Element;
  issueDate: Element & { format: TimeFormat };
  /** null: the template's expiry is kept as is (the device certificate's 3000-12-31). */
  expireDate: (Element & { format: TimeFormat }) | null;
  /** Four uppercase hex characters at the end of the signer's CN. */
  signerId: Element & { in: "issuer" | "subject" };
  serial: Element;
  authKeyId: Element;
  subjKeyId: Element;
}

const OID_SKI = "551d0e";
const OID_AKI = "551d23";

function timeFormat(tlv: Tlv): TimeFormat {
  if (tlv.tag === TAG.UTC_TIME) return "utc";
  if (tlv.tag === TAG.GENERALIZED_TIME) return "generalized";
  throw new CertificateError("certificate template", `tag 0x${tlv.tag.toString(16)} at byte ${tlv.start} is not a time`);
}

/** The value element of the last CN-like attribute of a Name (the signer id sits at its end). */
function lastAttributeValue(buf: Buffer, name: Tlv): Tlv {
  const rdns = children(buf, name);
  const last = rdns.at(-1);
  if (!last) throw new CertificateError("certificate template", "empty name");
  const atv = children(buf, children(buf, last)[0]!);
  return atv[1]!;
}

function extensionValue(buf: Buffer, exts: Tlv[], oidHex: string): Tlv {
  for (const ext of exts) {
    const parts = children(buf, ext);
    if (buf.subarray(parts[0]!.valueStart, parts[0]!.end).toString("hex") === oidHex) return parts.at(-1)!;
  }
  throw new CertificateError("certificate template", `no extension ${oidHex}`);
}

/** Walk a template certificate and locate every variable element. */
export function defineFromTemplate(
  template: Buffer,
  meta: Pick<CertDefinition, "kind" | "templateId" | "chainId" | "serialSource" | "expireYears"> & { expireVariable: boolean; signerIdIn: "issuer" | "subject" },
): CertDefinition {
  const cert = readTlv(template, 0, "certificate template");
  const [tbs, , sig] = children(template, cert);
  const t = children(template, tbs!);
  const [, serial, , issuer, validity, subject, spki, extsWrap] = t;
  const [notBefore, notAfter] = children(template, validity!);
  const keyBits = children(template, spki!)[1]!;
  const exts = children(template, children(template, extsWrap!)[0]!);
  const ski = readTlv(template, extensionValue(template, exts, OID_SKI).valueStart);
  const akiSeq = readTlv(template, extensionValue(template, exts, OID_AKI).valueStart);
  const akiKeyId = children(template, akiSeq)[0]!;
  const cn = lastAttributeValue(template, meta.signerIdIn === "issuer" ? issuer! : subject!);
  return {
    kind: meta.kind,
    templateId: meta.templateId,
    chainId: meta.chainId,
    serialSource: meta.serialSource,
    expireYears: meta.expireYears,
    template,
    tbs: { offset: tbs!.start, count: tbs!.end - tbs!.start },
    publicKey: { offset: keyBits.valueStart + 2, count: 64 },
    signature: { offset: sig!.start, count: 75 },
    issueDate: { offset: notBefore!.valueStart, count: notBefore!.length, format: timeFormat(notBefore!) },
    expireDate: meta.expireVariable ? { offset: notAfter!.valueStart, count: notAfter!.length, format: timeFormat(notAfter!) } : null,
    signerId: { offset: cn.end - 4, count: 4, in: meta.signerIdIn },
    serial: { offset: serial!.valueStart, count: serial!.length },
    authKeyId: { offset: akiKeyId.valueStart, count: akiKeyId.length },
    subjKeyId: { offset: ski.valueStart, count: ski.length },
  };
}

function loadTemplate(name: string): Buffer {
  return readFileSync(new URL(`./templates/${name}`, import.meta.url));
}

/** Template 2: the device certificate (serial from the public key hash, fixed expiry 3000-12-31). */
export const DEVICE_DEFINITION = defineFromTemplate(loadTemplate("device_tmpl.der"), {
  kind: "device",
  templateId: 2,
  chainId: 0,
  serialSource: "pubKeyHash",
  expireYears: 0,
  expireVariable: false,
  signerIdIn: "issuer",
});

/** Template 1: the signer certificate (serial and exact dates stored in slot 14). */
export const SIGNER_DEFINITION = defineFromTemplate(loadTemplate("signer_tmpl.der"), {
  kind: "signer",
  templateId: 1,
  chainId: 0,
  serialSource: "stored",
  expireYears: 10,
  expireVariable: true,
  signerIdIn: "subject",
});

export function definitionFor(kind: string): CertDefinition {
  if (kind === "device") return DEVICE_DEFINITION;
  if (kind === "signer") return SIGNER_DEFINITION;
  throw new CertificateError("--kind", `unknown certificate kind "${kind}" (expected device or signer)`);
}
