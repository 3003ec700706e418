/**
 * Setting up an account for the kit's JITR, the way the kit's guide does it, through the IoT control
 * plane API (so it works against the emulator and AWS alike): register the signer CA with a
 * verification certificate, ACTIVE with auto-registration, and a rule sending certificate
 * registration events to the JITR Lambda.
 */
import { CreateTopicRuleCommand, GetRegistrationCodeCommand, RegisterCACertificateCommand, type IoTClient } from "@aws-sdk/client-iot";
import { createVerificationCert } from "../../pki/ca.ts";
import type { Pki } from "../../pki/pki-dir.ts";

export const JITR_RULE_NAME = "ZTJITR";
export const JITR_RULE_SQL = "SELECT * FROM '$aws/events/certificates/registered/#'";

export async function registerSigner(iot: IoTClient, pki: Pki): Promise<string> {
  const { registrationCode } = await iot.send(new GetRegistrationCodeCommand({}));
  const verification = await createVerificationCert(pki.signer, registrationCode!);
  const r = await iot.send(
    new RegisterCACertificateCommand({ caCertificate: pki.signer.cert.toString("pem"), verificationCertificate: verification.toString("pem"), setAsActive: true, allowAutoRegistration: true }),
  );
  return r.certificateId!;
}

export async function createJitrRule(iot: IoTClient, lambdaArn: string): Promise<void> {
  await iot.send(new CreateTopicRuleCommand({ ruleName: JITR_RULE_NAME, topicRulePayload: { sql: JITR_RULE_SQL, awsIotSqlVersion: "2016-03-23", ruleDisabled: false, actions: [{ lambda: { functionArn: lambdaArn } }] } }));
}
