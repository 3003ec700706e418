/**
 * The kit's certificate storage, as firmware v2.2.5 does it with atcacert:
 * - saveCredentials (provisioning_task.c:process_board_application_save_credentials) WRITES first and
 *   verifies after: root key → slot 15; signer certificate → slots 12 (compressed), 14 (serial, dates)
 *   and 11 (public key); read back, rebuilt and verified on the chip with the root key; device
 *   certificate → slot 10; read back (its public key from slot 0), rebuilt and verified with the signer
 *   key. A failure stops there with error 260 and a message naming the step; what was written stays.
 *   There is no separate "public key equals slot 0" check: a device certificate for another key is
 *   rebuilt with slot 0's key and fails to verify.
 * - before every connect (aws_wifi_task.c:ecc_transfer_certificates) the chain is rebuilt from the
 *   slots and sent to the WINC; the thing name is the rebuilt device certificate's subject key id.
 */
import { DEVICE_DEFINITION, SIGNER_DEFINITION, type CertDefinition } from "../../../harness/pki/atcacert/cert-def.ts";
import { decodeSignerRecord, encodeSignerRecord } from "../../../harness/pki/atcacert/compressed.ts";
import { compressCertificate, rebuildCertificate } from "../../../harness/pki/atcacert/rebuild.ts";
import { certificateSignedParts } from "../../../harness/pki/ecdsa-signature.ts";
import { keyIdentifier } from "../../../harness/pki/keys.ts";
import type { Cryptoauthlib } from "./cryptoauthlib.ts";

export const SLOT = { deviceKey: 0, metadata: 8, deviceCert: 10, signerKey: 11, signerCert: 12, signerRecord: 14, rootKey: 15 } as const;

/** Why saveCredentials stopped: the firmware's own message (error_code 260). */
export class SaveStepError extends Error {}

const msg = (what: string) => `The AWS IoT Demo failed to ${what}`;

async function verifiesOnChip(cal: Cryptoauthlib, der: Buffer, issuerXY: Buffer): Promise<boolean> {
  try {
    const parts = certificateSignedParts(der, "certificate");
    return parts !== null && (await cal.verifyExtern(parts.digest, parts.signature, issuerXY));
  } catch {
    return false;
  }
}

/** atcacert_write_cert: the compressed form and the device locations the definition names. */
async function writeCert(cal: Cryptoauthlib, def: CertDefinition, der: Buffer): Promise<boolean> {
  let c;
  try {
    c = compressCertificate(def, der, undefined, false);
  } catch {
    return false; // atcacert_get_comp_cert could not decode the certificate's elements
  }
  await cal.writeBlocks(def === SIGNER_DEFINITION ? SLOT.signerCert : SLOT.deviceCert, c.compressed);
  if (c.signerRecord) await cal.writeBlocks(SLOT.signerRecord, encodeSignerRecord(c.signerRecord));
  if (def === SIGNER_DEFINITION) await cal.writePubkey(SLOT.signerKey, c.publicKey);
  return true;
}

async function readSigner(cal: Cryptoauthlib, rootXY: Buffer): Promise<{ der: Buffer; publicKey: Buffer }> {
  const publicKey = await cal.readPubkey(SLOT.signerKey);
  const der = rebuildCertificate(SIGNER_DEFINITION, {
    compressed: (await cal.readBlocks(SLOT.signerCert, 3)).subarray(0, 72),
    publicKey,
    issuerPublicKey: rootXY,
    signerRecord: decodeSignerRecord((await cal.readBlocks(SLOT.signerRecord, 3)).subarray(0, 72)),
  });
  return { der, publicKey };
}

async function readDevice(cal: Cryptoauthlib, signerXY: Buffer): Promise<{ der: Buffer; publicKey: Buffer }> {
  const compressed = (await cal.readBlocks(SLOT.deviceCert, 3)).subarray(0, 72);
  const publicKey = await cal.publicKey(SLOT.deviceKey);
  return { der: rebuildCertificate(DEVICE_DEFINITION, { compressed, publicKey, issuerPublicKey: signerXY }), publicKey };
}

/**
 * The certificate steps of saveCredentials; throws SaveStepError with the firmware's message.
 * `rootKeyHex`, `signerHex`, `deviceHex` are the host's strings, converted as the firmware converts them.
 */
export async function saveCertificates(cal: Cryptoauthlib, rootKey: Buffer, signerDer: Buffer, deviceDer: Buffer): Promise<void> {
  const rootXY = Buffer.alloc(64);
  rootKey.copy(rootXY, 0, 0, 64);
  await cal.writePubkey(SLOT.rootKey, rootXY);
  if (!(await writeCert(cal, SIGNER_DEFINITION, signerDer))) throw new SaveStepError(msg("save the Signer certificate."));
  let signer;
  try {
    signer = await readSigner(cal, rootXY);
  } catch {
    throw new SaveStepError(msg("verify the Signer certificate."));
  }
  if (!(await verifiesOnChip(cal, signer.der, rootXY))) throw new SaveStepError(msg("verify the Signer certificate."));
  if (!(await writeCert(cal, DEVICE_DEFINITION, deviceDer))) throw new SaveStepError(msg("save the Device certificate."));
  let device;
  try {
    device = await readDevice(cal, signer.publicKey);
  } catch {
    throw new SaveStepError(msg("verify the Device certificate."));
  }
  if (!(await verifiesOnChip(cal, device.der, signer.publicKey))) throw new SaveStepError(msg("verify the Device certificate."));
}

/** ecc_transfer_certificates: rebuild [device, signer] from the slots; the thing name is the device SKI. */
export async function rebuildChain(cal: Cryptoauthlib): Promise<{ device: Buffer; signer: Buffer; thing: string }> {
  const rootXY = await cal.readPubkey(SLOT.rootKey);
  const signer = await readSigner(cal, rootXY);
  const device = await readDevice(cal, signer.publicKey);
  return { device: device.der, signer: signer.der, thing: keyIdentifier(device.publicKey).toString("hex") };
}
