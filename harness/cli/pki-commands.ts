/** `zt-hil pki …`: the CAs, device certificates and verification certificates of the kit's PKI. */
import { join } from "node:path";
import type { Command } from "commander";
import { writeOutput } from "./output-file.ts";

/** The PKI modules, loaded when a pki command runs (they pull in @peculiar/x509). */
async function pkiModules() {
  const [ca, io, dir, identity] = await Promise.all([import("../pki/ca.ts"), import("../pki/cert-io.ts"), import("../pki/pki-dir.ts"), import("../pki/identity.ts")]);
  return { ...ca, ...io, ...dir, ...identity };
}

export function registerPkiCommands(program: Command): void {
  const pki = program.command("pki").description("root/signer CAs, device certificates, verification certificates");

  pki
    .command("init")
    .description("create root-ca.{key,crt} and signer-ca.{key,crt} in DIR (keys mode 0600)")
    .requiredOption("--dir <dir>", "PKI directory")
    .option("--signer-id <hex4>", "signer id in the signer CN (4 hex digits; random if omitted)")
    .option("--force", "replace CAs that already exist in DIR")
    .action(async (o: { dir: string; signerId?: string; force?: boolean }) => {
      const { initPki, PKI_FILES } = await pkiModules();
      const made = await initPki(o.dir, { ...(o.signerId ? { signerId: o.signerId } : {}), force: Boolean(o.force) });
      for (const f of [PKI_FILES.rootKey, PKI_FILES.rootCert, PKI_FILES.signerKey, PKI_FILES.signerCert]) console.log(join(o.dir, f));
      console.log(`signer: ${made.signer.cert.subject}`);
    });

  pki
    .command("sign-csr")
    .description("issue a device certificate (kit template 2) for a CSR")
    .requiredOption("--dir <dir>", "PKI directory")
    .requiredOption("--csr <file>", "device CSR (PEM or DER)")
    .requiredOption("--out <file>", "device certificate to write (PEM)")
    .action(async (o: { dir: string; csr: string; out: string }) => {
      const { loadPki, signDeviceCsr, readCsr, certificateId } = await pkiModules();
      const ca = loadPki(o.dir);
      const cert = await signDeviceCsr(readCsr(o.csr), ca.signer);
      writeOutput(o.out, cert.toString("pem") + "\n");
      console.log(`${o.out} (certificate id ${certificateId(Buffer.from(cert.rawData))})`);
    });

  pki
    .command("verification-cert")
    .description("certificate with CN = registration code, signed by the signer CA key")
    .requiredOption("--dir <dir>", "PKI directory")
    .requiredOption("--code <code>", "registration code (GetRegistrationCode)")
    .requiredOption("--out <file>", "verification certificate to write (PEM)")
    .action(async (o: { dir: string; code: string; out: string }) => {
      const { createVerificationCert, loadPki } = await pkiModules();
      const cert = await createVerificationCert(loadPki(o.dir).signer, o.code);
      writeOutput(o.out, cert.toString("pem") + "\n");
      console.log(o.out);
    });
}
