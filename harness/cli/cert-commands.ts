/** `zt-hil cert …`: the kit's 72-byte compressed certificates (atcacert). */
import { X509Certificate } from "node:crypto";
import type { Command } from "commander";
import { CertificateError } from "../errors.ts";
import { writeOutput } from "./output-file.ts";

/** The certificate modules, loaded when a cert command runs (they pull in @peculiar/x509). */
async function certModules() {
  const [def, compressed, rebuild, ca, io] = await Promise.all([
    import("../pki/atcacert/cert-def.ts"),
    import("../pki/atcacert/compressed.ts"),
    import("../pki/atcacert/rebuild.ts"),
    import("../pki/ca.ts"),
    import("../pki/cert-io.ts"),
  ]);
  const publicKeyOf = (file: string) => ca.rawPublicKeyOfSpki(io.readCertificate(file).publicKey.rawData);
  return { ...def, ...compressed, ...rebuild, ...io, publicKeyOf, readCertificate: io.readCertificate };
}

function hexArg(value: string, name: string, bytes?: number): Buffer {
  const clean = value.replace(/^0x/, "").replace(/[\s:]/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new CertificateError(name, "is not hex");
  const out = Buffer.from(clean, "hex");
  if (bytes !== undefined && out.length !== bytes) throw new CertificateError(name, `expected ${bytes} bytes, got ${out.length}`);
  return out;
}

export function registerCertCommands(program: Command): void {
  const cert = program.command("cert").description("compressed certificates as the kit stores them");

  cert
    .command("compress")
    .description("print the 72-byte compressed certificate as one line of hex (signer: then the slot-14 record)")
    .requiredOption("--kind <kind>", "device or signer")
    .requiredOption("--cert <file>", "certificate (PEM or DER)")
    .option("--issuer-cert <file>", "issuer certificate, to check the authority key id too")
    .action(async (o: { kind: string; cert: string; issuerCert?: string }) => {
      const { definitionFor, readCertificate, publicKeyOf, compressCertificate, derOf, encodeSignerRecord } = await certModules();
      const def = definitionFor(o.kind);
      const c = readCertificate(o.cert);
      const issuerKey = o.issuerCert ? publicKeyOf(o.issuerCert) : undefined;
      let out;
      try {
        out = compressCertificate(def, derOf(c), issuerKey);
      } catch (err) {
        if (err instanceof CertificateError) throw new CertificateError(o.cert, err.message);
        throw err;
      }
      console.log(out.compressed.toString("hex"));
      if (out.signerRecord) console.log(encodeSignerRecord(out.signerRecord).toString("hex"));
    });

  cert
    .command("decompress")
    .description("rebuild the full certificate from its compressed form; exit 1 if its signature does not verify with the issuer's key")
    .requiredOption("--kind <kind>", "device or signer")
    .requiredOption("--compressed <hex>", "72-byte compressed certificate")
    .requiredOption("--public-key <hex>", "the certificate's public key, X‖Y (64 bytes)")
    .option("--signer-cert <file>", "device: the signer certificate (issuer)")
    .option("--root-cert <file>", "signer: the root certificate (issuer)")
    .option("--slot14 <hex>", "signer: the slot-14 record (stored serial and dates)")
    .requiredOption("--out <file>", "certificate to write (PEM)")
    .action(async (o: { kind: string; compressed: string; publicKey: string; signerCert?: string; rootCert?: string; slot14?: string; out: string }) => {
      const { definitionFor, rebuildCertificate, publicKeyOf, decodeSignerRecord, parseCertificate, readCertificate } = await certModules();
      const def = definitionFor(o.kind);
      const issuerFile = def.kind === "device" ? o.signerCert : o.rootCert;
      if (!issuerFile) throw new CertificateError(def.kind === "device" ? "--signer-cert" : "--root-cert", "is required to rebuild a " + def.kind + " certificate");
      if (def.kind === "signer" && !o.slot14) throw new CertificateError("--slot14", "is required to rebuild a signer certificate");
      const der = rebuildCertificate(def, {
        compressed: hexArg(o.compressed, "--compressed", 72),
        publicKey: hexArg(o.publicKey, "--public-key", 64),
        issuerPublicKey: publicKeyOf(issuerFile),
        ...(o.slot14 ? { signerRecord: decodeSignerRecord(hexArg(o.slot14, "--slot14"), "--slot14") } : {}),
      });
      // The signature is stored, not rebuilt: with the wrong public key, compressed bytes or issuer the
      // certificate comes out well formed but with a signature over other bytes. Refuse it; write nothing.
      const issuer = new X509Certificate(Buffer.from(readCertificate(issuerFile).rawData));
      if (!new X509Certificate(der).verify(issuer.publicKey)) {
        throw new CertificateError("rebuilt certificate", `its signature does not verify with ${issuerFile}'s key: --public-key, --compressed${def.kind === "signer" ? ", --slot14" : ""} or the issuer is not this certificate's; nothing written to ${o.out}`, { exitCode: 1 });
      }
      writeOutput(o.out, parseCertificate(der, "rebuilt certificate").toString("pem") + "\n");
      console.log(o.out);
    });
}
