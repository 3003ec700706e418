import { expect, test } from "@playwright/test";
import { CertificateError } from "../../errors.ts";
import { keyIdentifier } from "../keys.ts";
import { DEVICE_DEFINITION, SIGNER_DEFINITION } from "./cert-def.ts";
import { decodeCompressed, decodeSignerRecord, encodeSignerRecord } from "./compressed.ts";
import { decodeDates, encodeDates, expiryOf, NO_EXPIRY } from "./dates.ts";
import { compressCertificate, publicKeyHashSerial, rebuildCertificate } from "./rebuild.ts";

const template = DEVICE_DEFINITION.template;
const templateKey = template.subarray(207, 207 + 64);
// The AKI in Microchip's device template is the key id of the (unpublished) signer key of that example.
const templateAki = template.subarray(319, 339);

test("date encoding matches the kit's worked examples", () => {
  expect(encodeDates(new Date(Date.UTC(2017, 6, 10, 20)), 0).toString("hex")).toBe("8baa80");
  expect(encodeDates(new Date(Date.UTC(2017, 5, 7, 17, 56, 12)), 10).toString("hex")).toBe("8b1e2a");
  const d = decodeDates(Buffer.from("8b1e2a", "hex"));
  expect(d.issue.toISOString()).toBe("2017-06-07T17:00:00.000Z");
  expect(d.expireYears).toBe(10);
  expect(expiryOf(d).toISOString()).toBe("2027-06-07T17:00:00.000Z");
  expect(expiryOf({ issue: d.issue, expireYears: 0 })).toEqual(NO_EXPIRY);
  for (const year of [2000, 2031]) {
    const issue = new Date(Date.UTC(year, 11, 31, 23));
    expect(decodeDates(encodeDates(issue, 31)).issue).toEqual(issue);
  }
  expect(() => encodeDates(new Date(Date.UTC(2032, 0, 1)), 0)).toThrow(/outside 2000–2031/);
  expect(() => decodeDates(Buffer.from("000000", "hex"))).toThrow(/impossible date/);
});

test("the device definition derived from the template matches the firmware's cert_def_2_device", () => {
  const d = DEVICE_DEFINITION;
  expect(d.tbs).toEqual({ offset: 4, count: 335 });
  expect(d.publicKey).toEqual({ offset: 207, count: 64 });
  expect(d.signature).toEqual({ offset: 351, count: 75 });
  expect(d.issueDate).toEqual({ offset: 101, count: 13, format: "utc" });
  expect(d.expireDate).toBeNull();
  expect(d.signerId).toEqual({ offset: 93, count: 4, in: "issuer" });
  expect(d.serial).toEqual({ offset: 15, count: 16 });
  expect(d.authKeyId).toEqual({ offset: 319, count: 20 });
  expect(d.subjKeyId).toEqual({ offset: 286, count: 20 });
  expect(SIGNER_DEFINITION.expireDate).toEqual({ offset: 112, count: 13, format: "utc" });
  expect(SIGNER_DEFINITION.signerId).toEqual({ offset: 175, count: 4, in: "subject" });
});

test("Microchip's device template obeys its own serial and key-id rules", () => {
  expect(publicKeyHashSerial(templateKey, Buffer.from("8baa80", "hex")).toString("hex")).toBe(template.subarray(15, 31).toString("hex"));
  expect(keyIdentifier(templateKey).toString("hex")).toBe(template.subarray(286, 306).toString("hex"));
});

test("Microchip's device template compresses to the bytes its definition implies and rebuilds identically", () => {
  const { compressed, publicKey } = compressCertificate(DEVICE_DEFINITION, template);
  const c = decodeCompressed(compressed);
  // R‖S of the template's own signature
  expect(c.signature.toString("hex")).toBe(
    "e1fc0023c13d013f22310bf0b8f4f422fc9596339cb962b1fc8a2da85cee6772" + "a10d47e4fd0d15d8dea1b596284e7a0bbeccece88ecc7a31b3008bc02e4f99c5",
  );
  expect(compressed.subarray(64).toString("hex")).toBe("8baa80" + "ffff" + "20" + "a0" + "00");
  expect(publicKey.equals(templateKey)).toBe(true);
  const rebuilt = rebuildCertificate(DEVICE_DEFINITION, { compressed, publicKey, authorityKeyId: templateAki });
  expect(rebuilt.equals(template)).toBe(true);
});

test("the signer template keeps its exact dates and serial through slot 14", () => {
  const signerTemplate = SIGNER_DEFINITION.template;
  const rootAki = signerTemplate.subarray(354, 374);
  const { compressed, publicKey, signerRecord } = compressCertificate(SIGNER_DEFINITION, signerTemplate);
  expect(compressed.subarray(64).toString("hex")).toBe("8b1e2a" + "ffff" + "10" + "00" + "00");
  expect(signerRecord!.issueDate).toBe("170607175612Z");
  const slot14 = encodeSignerRecord(signerRecord!);
  expect(slot14.length).toBe(72);
  expect(slot14.toString("ascii", 22, 35)).toBe("170607175612Z");
  expect(slot14.toString("ascii", 37, 50)).toBe("270607175612Z");
  expect(slot14.subarray(4, 20).toString("hex")).toBe("57062ef005ea8a7044ff1b90002178d6");
  const rebuilt = rebuildCertificate(SIGNER_DEFINITION, { compressed, publicKey, authorityKeyId: rootAki, signerRecord: decodeSignerRecord(slot14) });
  expect(rebuilt.equals(signerTemplate)).toBe(true);
  // Without slot 14 the kit cannot know the serial.
  expect(() => rebuildCertificate(SIGNER_DEFINITION, { compressed, publicKey, authorityKeyId: rootAki })).toThrow(/slot-14 record is needed/);
});

test("a compressed certificate for the wrong template or of the wrong size is refused", () => {
  const { compressed, publicKey } = compressCertificate(DEVICE_DEFINITION, template);
  expect(() => rebuildCertificate(SIGNER_DEFINITION, { compressed, publicKey, authorityKeyId: templateAki })).toThrow(/template id 2 does not match the signer definition/);
  expect(() => rebuildCertificate(DEVICE_DEFINITION, { compressed: compressed.subarray(0, 70), publicKey, authorityKeyId: templateAki })).toThrow(CertificateError);
  const badVersion = Buffer.from(compressed);
  badVersion[70] = 0xa1;
  expect(() => decodeCompressed(badVersion)).toThrow(/format version 1/);
});

test("a changed byte anywhere fixed by the template is reported by field", () => {
  // Same certificate with the subject's CN changed: the kit would silently rebuild the template's CN.
  const tampered = Buffer.from(template);
  tampered.write("Examplf Device", 166, "ascii");
  expect(() => compressCertificate(DEVICE_DEFINITION, tampered)).toThrow(/tbsCertificate\.subject differs — the certificate has "O=Example Inc, CN=Examplf Device", the kit would rebuild "O=Example Inc, CN=Example Device"/);
  // A notBefore with minutes: compressed dates hold only the hour.
  const minutes = Buffer.from(template);
  minutes.write("1707102015", 101, "ascii");
  expect(() => compressCertificate(DEVICE_DEFINITION, minutes)).toThrow(/validity\.notBefore differs — the certificate has UTCTime 170710201500Z, the kit would rebuild UTCTime 170710200000Z/);
});
