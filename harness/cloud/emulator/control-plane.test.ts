import { createHash } from "node:crypto";
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  CreateThingTypeCommand,
  DeleteCACertificateCommand,
  DeleteCertificateCommand,
  DeletePolicyCommand,
  DeleteThingCommand,
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  DescribeEndpointCommand,
  DescribeThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  GetPolicyCommand,
  GetRegistrationCodeCommand,
  GetTopicRuleCommand,
  ListAttachedPoliciesCommand,
  ListCACertificatesCommand,
  ListCertificatesByCACommand,
  ListCertificatesCommand,
  ListThingPrincipalsCommand,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
  RegisterCertificateWithoutCACommand,
  UpdateCACertificateCommand,
  UpdateCertificateCommand,
} from "@aws-sdk/client-iot";
import { DeleteThingShadowCommand, GetThingShadowCommand, UpdateThingShadowCommand } from "@aws-sdk/client-iot-data-plane";
import { createVerificationCert } from "../../pki/ca.ts";
import { initPki } from "../../pki/pki-dir.ts";
import { makeDevice } from "../../testing/device.ts";
import { expect, test } from "../../testing/emulator-fixtures.ts";
import { needTools } from "../../testing/tools.ts";
import { IotCoreEmulator } from "./emulator.ts";
import { JITR_RULE_NAME } from "./jitr-setup.ts";

const nameOf = (p: Promise<unknown>) => p.then(() => "no error", (e: Error) => e.name);

test("CA registration checks the registration code and the verification signature", async ({ iot, pki }) => {
  const { registrationCode } = await iot.send(new GetRegistrationCodeCommand({}));
  expect(registrationCode).toMatch(/^[0-9a-f]{64}$/);
  const caCertificate = pki.signer.cert.toString("pem");
  const wrongCode = await createVerificationCert(pki.signer, "0123456789abcdef");
  expect(await nameOf(iot.send(new RegisterCACertificateCommand({ caCertificate, verificationCertificate: wrongCode.toString("pem") })))).toBe("RegistrationCodeValidationException");
  const other = await initPki(test.info().outputPath("other"));
  const wrongKey = await createVerificationCert(other.signer, registrationCode!);
  expect(await nameOf(iot.send(new RegisterCACertificateCommand({ caCertificate, verificationCertificate: wrongKey.toString("pem") })))).toBe("CertificateValidationException");
  const good = await createVerificationCert(pki.signer, registrationCode!);
  const r = await iot.send(new RegisterCACertificateCommand({ caCertificate, verificationCertificate: good.toString("pem"), setAsActive: true, allowAutoRegistration: true }));
  expect(r.certificateId).toBe(createHash("sha256").update(Buffer.from(pki.signer.cert.rawData)).digest("hex"));
  expect(r.certificateArn).toBe(`arn:aws:iot:us-east-1:123456789012:cacert/${r.certificateId}`);
  expect(await nameOf(iot.send(new RegisterCACertificateCommand({ caCertificate, verificationCertificate: good.toString("pem") })))).toBe("ResourceAlreadyExistsException");
  const d = await iot.send(new DescribeCACertificateCommand({ certificateId: r.certificateId }));
  expect(d.certificateDescription).toMatchObject({ status: "ACTIVE", autoRegistrationStatus: "ENABLE", certificatePem: caCertificate.trim() + "\n" });
  expect(d.certificateDescription!.creationDate).toBeInstanceOf(Date);
  expect((await iot.send(new ListCACertificatesCommand({}))).certificates!.map((c) => c.certificateId)).toEqual([r.certificateId]);
  expect(await nameOf(iot.send(new DeleteCACertificateCommand({ certificateId: r.certificateId })))).toBe("CertificateStateException");
  await iot.send(new UpdateCACertificateCommand({ certificateId: r.certificateId, newStatus: "INACTIVE", newAutoRegistrationStatus: "DISABLE" }));
  expect((await iot.send(new DescribeCACertificateCommand({ certificateId: r.certificateId }))).certificateDescription).toMatchObject({ status: "INACTIVE", autoRegistrationStatus: "DISABLE" });
  await iot.send(new DeleteCACertificateCommand({ certificateId: r.certificateId }));
  expect(await nameOf(iot.send(new DescribeCACertificateCommand({ certificateId: r.certificateId })))).toBe("ResourceNotFoundException");
});

test("device certificates: registration, status transitions and deletion rules", async ({ iot, pki, jitr }) => {
  needTools("openssl");
  const dev = await makeDevice(pki, test.info().outputPath());
  expect(await nameOf(iot.send(new RegisterCertificateCommand({ certificatePem: dev.certPem, status: "PENDING_ACTIVATION" })))).toBe("CertificateStateException");
  const r = await iot.send(new RegisterCertificateCommand({ certificatePem: dev.certPem, caCertificatePem: pki.signer.cert.toString("pem"), setAsActive: true }));
  expect(r.certificateId).toBe(dev.certId);
  const desc = await iot.send(new DescribeCertificateCommand({ certificateId: dev.certId }));
  expect(desc.certificateDescription).toMatchObject({ status: "ACTIVE", caCertificateId: jitr.caId });
  expect((await iot.send(new ListCertificatesByCACommand({ caCertificateId: jitr.caId }))).certificates!.map((c) => c.certificateId)).toEqual([dev.certId]);
  expect(await nameOf(iot.send(new DeleteCertificateCommand({ certificateId: dev.certId })))).toBe("CertificateStateException");
  await iot.send(new UpdateCertificateCommand({ certificateId: dev.certId, newStatus: "REVOKED" }));
  expect(await nameOf(iot.send(new UpdateCertificateCommand({ certificateId: dev.certId, newStatus: "ACTIVE" })))).toBe("CertificateStateException");
  expect(await nameOf(iot.send(new UpdateCertificateCommand({ certificateId: dev.certId, newStatus: "PENDING_ACTIVATION" })))).toBe("InvalidRequestException");

  await iot.send(new CreatePolicyCommand({ policyName: "p1", policyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "iot:*", Resource: "*" }] }) }));
  expect(await nameOf(iot.send(new CreatePolicyCommand({ policyName: "bad", policyDocument: "{not json" })))).toBe("MalformedPolicyException");
  await iot.send(new AttachPolicyCommand({ policyName: "p1", target: r.certificateArn }));
  expect((await iot.send(new ListAttachedPoliciesCommand({ target: r.certificateArn }))).policies!.map((p) => p.policyName)).toEqual(["p1"]);
  expect((await iot.send(new GetPolicyCommand({ policyName: "p1" }))).policyArn).toBe("arn:aws:iot:us-east-1:123456789012:policy/p1");
  expect(await nameOf(iot.send(new DeletePolicyCommand({ policyName: "p1" })))).toBe("DeleteConflictException");
  await iot.send(new CreateThingTypeCommand({ thingTypeName: "microchip-zero-touch-kit" }));
  await iot.send(new CreateThingCommand({ thingName: dev.thingName, thingTypeName: "microchip-zero-touch-kit" }));
  expect(await nameOf(iot.send(new CreateThingCommand({ thingName: dev.thingName, thingTypeName: "missing" })))).toBe("ResourceNotFoundException");
  await iot.send(new AttachThingPrincipalCommand({ thingName: dev.thingName, principal: r.certificateArn }));
  expect((await iot.send(new ListThingPrincipalsCommand({ thingName: dev.thingName }))).principals).toEqual([r.certificateArn]);
  expect((await iot.send(new DescribeThingCommand({ thingName: dev.thingName }))).thingTypeName).toBe("microchip-zero-touch-kit");
  expect(await nameOf(iot.send(new DeleteCertificateCommand({ certificateId: dev.certId })))).toBe("DeleteConflictException");
  expect(await nameOf(iot.send(new DeleteThingCommand({ thingName: dev.thingName })))).toBe("InvalidRequestException");
  await iot.send(new DetachThingPrincipalCommand({ thingName: dev.thingName, principal: r.certificateArn }));
  await iot.send(new DeleteThingCommand({ thingName: dev.thingName }));
  expect(await nameOf(iot.send(new DeleteCertificateCommand({ certificateId: dev.certId })))).toBe("DeleteConflictException");
  await iot.send(new DetachPolicyCommand({ policyName: "p1", target: r.certificateArn }));
  await iot.send(new DeleteCertificateCommand({ certificateId: dev.certId }));
  expect((await iot.send(new ListCertificatesCommand({}))).certificates).toEqual([]);
  const noCa = await iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: dev.certPem, status: "ACTIVE" }));
  expect(noCa.certificateId).toBe(dev.certId);
  expect((await iot.send(new GetTopicRuleCommand({ ruleName: JITR_RULE_NAME }))).rule?.sql).toBe("SELECT * FROM '$aws/events/certificates/registered/#'");
});

test("DescribeEndpoint names the MQTT port; unsupported rule SQL is refused", async ({ emu, iot }) => {
  expect((await iot.send(new DescribeEndpointCommand({ endpointType: "iot:Data-ATS" }))).endpointAddress).toBe(`127.0.0.1:${emu.mqttPort}`);
  const { CreateTopicRuleCommand } = await import("@aws-sdk/client-iot");
  expect(await nameOf(iot.send(new CreateTopicRuleCommand({ ruleName: "w", topicRulePayload: { sql: "SELECT * FROM 'a/b' WHERE x > 1", actions: [] } })))).toBe("SqlParseException");
});

test("iot-data shadows: update, get, version conflict and delete through the SDK", async ({ emu }) => {
  const data = emu.iotDataClient();
  const put = (doc: unknown) => data.send(new UpdateThingShadowCommand({ thingName: "kit1", payload: Buffer.from(JSON.stringify(doc)) }));
  const acc = JSON.parse(Buffer.from((await put({ state: { desired: { led1: "on" }, reported: { led1: "off", button1: "up" } } })).payload!).toString());
  expect(acc).toMatchObject({ state: { desired: { led1: "on" } }, version: 1, metadata: { desired: { led1: { timestamp: expect.any(Number) } } } });
  const got = JSON.parse(Buffer.from((await data.send(new GetThingShadowCommand({ thingName: "kit1" }))).payload!).toString());
  expect(got.state).toEqual({ desired: { led1: "on" }, reported: { led1: "off", button1: "up" }, delta: { led1: "on" } });
  expect(await nameOf(put({ state: { reported: { led1: "on" } }, version: 7 }))).toBe("ConflictException");
  await data.send(new DeleteThingShadowCommand({ thingName: "kit1" }));
  expect(await nameOf(data.send(new GetThingShadowCommand({ thingName: "kit1" })))).toBe("ResourceNotFoundException");
  data.destroy();
});

test("state persists across restarts with a data directory and atomic writes", async ({}, info) => {
  const dir = info.outputPath("data");
  const first = await IotCoreEmulator.start({ dataDir: dir });
  const pki = await initPki(info.outputPath("pki"));
  const { registerSigner } = await import("./jitr-setup.ts");
  const caId = await registerSigner(first.iotClient(), pki);
  const data = first.iotDataClient();
  await data.send(new UpdateThingShadowCommand({ thingName: "kit1", payload: Buffer.from('{"state":{"reported":{"led2":"on"}}}') }));
  const ca = first.serverCaPem;
  await first.stop();
  const second = await IotCoreEmulator.start({ dataDir: dir });
  try {
    expect((await second.iotClient().send(new DescribeCACertificateCommand({ certificateId: caId }))).certificateDescription?.status).toBe("ACTIVE");
    const shadow = JSON.parse(Buffer.from((await second.iotDataClient().send(new GetThingShadowCommand({ thingName: "kit1" }))).payload!).toString());
    expect(shadow.state.reported).toEqual({ led2: "on" });
    expect(second.serverCaPem).toBe(ca);
  } finally {
    await second.stop();
  }
  const memory = await IotCoreEmulator.start();
  expect((await memory.iotClient().send(new ListCACertificatesCommand({}))).certificates).toEqual([]);
  await memory.stop();
});
