/**
 * The identifiers AWS IoT and the kit derive from a device's key and certificate: the thing name and
 * MQTT client id (lowercase hex SKI, SHA-1 over 04‖X‖Y) and the certificate id (lowercase hex SHA-256
 * of the certificate DER).
 */
import { createHash } from "node:crypto";
import { keyIdentifier } from "./keys.ts";

/** Thing name = MQTT client id = lowercase hex of the device key's SKI (40 characters). */
export function thingName(rawPublicKeyXY: Uint8Array): string {
  return keyIdentifier(rawPublicKeyXY).toString("hex");
}

/** AWS IoT certificate id: lowercase hex SHA-256 of the certificate's DER. */
export function certificateId(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("hex");
}
