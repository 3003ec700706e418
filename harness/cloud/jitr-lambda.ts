/**
 * The JITR Lambda of the Zero Touch kit (KIT-FACTS §8), as one file that deploys to AWS Lambda
 * unchanged (Node.js runtime, handler `jitr-lambda.handler`; it needs only @aws-sdk/client-iot, which
 * the runtime ships) and that the emulator runs in-process as function `ZTLambdaJITR`.
 *
 * For a certificate registered PENDING_ACTIVATION by JITR it creates the thing type
 * `microchip-zero-touch-kit`, the thing named after the certificate's subject key id (lowercase hex,
 * also the MQTT client id), the policy `ZTPolicy_<certificateId>`, attaches policy and thing to the
 * certificate and activates it.
 */
import { createHash, X509Certificate } from "node:crypto";
import {
  AttachPrincipalPolicyCommand,
  AttachThingPrincipalCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  CreateThingTypeCommand,
  DescribeCertificateCommand,
  IoTClient,
  UpdateCertificateCommand,
} from "@aws-sdk/client-iot";

export const THING_TYPE = "microchip-zero-touch-kit";

export interface JitrEvent {
  certificateId: string;
  caCertificateId: string;
  timestamp: number;
  certificateStatus: string;
  awsAccountId: string;
  certificateRegistrationTimestamp?: number | string;
}

/** Lowercase hex SHA-1 over 04‖X‖Y of the certificate's P-256 key: the kit's thing name. */
export function subjectKeyIdHex(pem: string): string {
  const jwk = new X509Certificate(pem).publicKey.export({ format: "jwk" });
  if (!jwk.x || !jwk.y) throw new Error("the certificate's key is not an EC key");
  return createHash("sha1").update(Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, "base64url"), Buffer.from(jwk.y, "base64url")])).digest("hex");
}

export function ztPolicy(region: string, account: string, thingName: string): string {
  const arn = (kind: string, rest: string) => `arn:aws:iot:${region}:${account}:${kind}/${rest}`;
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["iot:Connect"], Resource: [arn("client", thingName)] },
      { Effect: "Allow", Action: ["iot:Publish", "iot:Receive"], Resource: [arn("topic", "${iot:ClientId}/*"), arn("topic", "$aws/things/${iot:ClientId}/shadow/*")] },
      { Effect: "Allow", Action: ["iot:Subscribe"], Resource: [arn("topicfilter", "${iot:ClientId}/#"), arn("topicfilter", "$aws/things/${iot:ClientId}/shadow/*")] },
      { Effect: "Allow", Action: ["iot:GetThingShadow", "iot:UpdateThingShadow"], Resource: [arn("thing", "${iot:ClientId}")] },
    ],
  });
}

const ignoreExists = (err: unknown) => {
  if ((err as { name?: string }).name !== "ResourceAlreadyExistsException") throw err;
};

export function makeJitrHandler(iot: IoTClient, region: string) {
  return async (event: JitrEvent): Promise<{ thingName: string; policyName: string }> => {
    if (event.certificateStatus !== "PENDING_ACTIVATION") throw new Error(`certificate ${event.certificateId} is ${event.certificateStatus}, not PENDING_ACTIVATION`);
    const { certificateDescription: d } = await iot.send(new DescribeCertificateCommand({ certificateId: event.certificateId }));
    if (!d?.certificatePem || !d.certificateArn) throw new Error(`certificate ${event.certificateId} has no PEM`);
    const thingName = subjectKeyIdHex(d.certificatePem);
    const policyName = `ZTPolicy_${event.certificateId}`;
    await iot.send(new CreateThingTypeCommand({ thingTypeName: THING_TYPE })).catch(ignoreExists);
    await iot.send(new CreateThingCommand({ thingName, thingTypeName: THING_TYPE }));
    await iot.send(new CreatePolicyCommand({ policyName, policyDocument: ztPolicy(region, event.awsAccountId, thingName) })).catch(ignoreExists);
    await iot.send(new AttachPrincipalPolicyCommand({ policyName, principal: d.certificateArn }));
    await iot.send(new AttachThingPrincipalCommand({ thingName, principal: d.certificateArn }));
    await iot.send(new UpdateCertificateCommand({ certificateId: event.certificateId, newStatus: "ACTIVE" }));
    return { thingName, policyName };
  };
}

/** The AWS Lambda entry point. */
export const handler = (event: JitrEvent) => {
  const region = process.env.AWS_REGION ?? "us-east-1";
  return makeJitrHandler(new IoTClient({ region }), region)(event);
};
