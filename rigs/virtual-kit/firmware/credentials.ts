/**
 * The kit's certificate storage, as the firmware does it with atcacert: certificates are kept
 * compressed (device in slot 10, signer in slot 12, signer serial and dates in slot 14), public keys in
 * the 72-byte padded form (signer in slot 11, root in slot 15), and rebuilt from the templates when the
 * TLS client needs the chain.
 */
import { createHash } from "node:crypto";
import type { AteccClient } from "../../../harness/kit/atecc-client.ts";
import { DEVICE_DEFINITION, SIGNER_DEFINITION } from "../../../harness/pki/atcacert/cert-def.ts";
import { decodeSignerRecord, encodeSignerRecord } from "../../../harness/pki/atcacert/compressed.ts";
import { compressCertificate, rebuildCertificate } from "../../../harness/pki/atcacert/rebuild.ts";
import { children, readTlv } from "../../../harness/pki/der.ts";
import { derToRaw } from "../../../harness/pki/ecdsa-signature.ts";
import { CertificateError } from "../../../harness/errors.ts";

export const SLOT = { deviceKey: 0, metadata: 8, deviceCert: 10, signerKey: 11, signerCert: 12, signerRecord: 14, rootKey: 15 } as const;

/** 72-byte padded public key: 00000000‖X‖00000000‖Y. */
export function padKey(xy: Buffer): Buffer {
  return Buffer.concat([Buffer.alloc(4), xy.subarray(0, 32), Buffer.alloc(4), xy.subarray(32, 64)]);
}

export function unpadKey(slot: Buffer): Buffer {
  return Buffer.concat([slot.subarray(4, 36), slot.subarray(40, 72)]);
}

/** Verify a certificate's signature on the chip: SHA-256 of the TBS, Verify with the issuer key. */
export async function verifyOnChip(atecc: AteccClient, der: Buffer, issuerXY: Buffer, what: string): Promise<void> {
  const cert = readTlv(der, 0, what);
  const [tbs, , sig] = children(der, cert, what);
  if (!tbs || !sig) throw new CertificateError(what, "is not a certificate");
  const digest = createHash("sha256").update(der.subarray(tbs.start, tbs.end)).digest();
  if (!(await atecc.verify(digest, derToRaw(der.subarray(sig.valueStart + 1, sig.end)), issuerXY))) throw new CertificateError(what, "signature does not verify with its issuer's key");
}

/** saveCredentials: verify both certificates on the chip, compress them and write the slots. */
export async function storeCredentials(atecc: AteccClient, rootXY: Buffer, signerDer: Buffer, deviceDer: Buffer): Promise<void> {
  await verifyOnChip(atecc, signerDer, rootXY, "signer certificate");
  const signer = compressCertificate(SIGNER_DEFINITION, signerDer, rootXY);
  await verifyOnChip(atecc, deviceDer, signer.publicKey, "device certificate");
  const device = compressCertificate(DEVICE_DEFINITION, deviceDer, signer.publicKey);
  const slot0 = await atecc.genKey(SLOT.deviceKey);
  if (!device.publicKey.equals(slot0)) throw new CertificateError("device certificate", "its public key is not this kit's slot-0 key");
  await atecc.writeSlot(SLOT.rootKey, padKey(rootXY));
  await atecc.writeSlot(SLOT.signerKey, padKey(signer.publicKey));
  await atecc.writeSlot(SLOT.signerCert, signer.compressed);
  await atecc.writeSlot(SLOT.signerRecord, encodeSignerRecord(signer.signerRecord!));
  await atecc.writeSlot(SLOT.deviceCert, device.compressed);
}

/** Rebuild [device, signer] certificates from the slots, as the TLS client presents them. */
export async function readChain(atecc: AteccClient): Promise<{ device: Buffer; signer: Buffer }> {
  const rootXY = unpadKey(await atecc.readSlot(SLOT.rootKey, 72));
  const signerXY = unpadKey(await atecc.readSlot(SLOT.signerKey, 72));
  const signer = rebuildCertificate(SIGNER_DEFINITION, {
    compressed: await atecc.readSlot(SLOT.signerCert, 72),
    publicKey: signerXY,
    issuerPublicKey: rootXY,
    signerRecord: decodeSignerRecord(await atecc.readSlot(SLOT.signerRecord, 72)),
  });
  const device = rebuildCertificate(DEVICE_DEFINITION, { compressed: await atecc.readSlot(SLOT.deviceCert, 72), publicKey: await atecc.genKey(SLOT.deviceKey), issuerPublicKey: signerXY });
  return { device, signer };
}
