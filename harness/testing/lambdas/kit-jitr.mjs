// A customer's JITR Lambda as an ESM module with @aws-sdk/client-iot v3 (what AWS's Node.js 18+
// runtimes provide): the kit's flow — thing type, thing named after the key's SHA-1, policy
// ZTPolicy_<certificateId>, both attached, certificate activated. Written for zt-hil's tests.
import { createHash, X509Certificate } from "node:crypto";
import { AttachPrincipalPolicyCommand, AttachThingPrincipalCommand, CreatePolicyCommand, CreateThingCommand, CreateThingTypeCommand, DescribeCertificateCommand, IoTClient, UpdateCertificateCommand } from "@aws-sdk/client-iot";

const iot = new IoTClient({});
const exists = (err) => {
  if (err.name !== "ResourceAlreadyExistsException") throw err;
};

export const handler = async (event) => {
  console.log(`JITR event for ${event.certificateId} (${event.certificateStatus})`);
  const { certificateDescription: d } = await iot.send(new DescribeCertificateCommand({ certificateId: event.certificateId }));
  const jwk = new X509Certificate(d.certificatePem).publicKey.export({ format: "jwk" });
  const thingName = createHash("sha1").update(Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, "base64url"), Buffer.from(jwk.y, "base64url")])).digest("hex");
  const policyName = `ZTPolicy_${event.certificateId}`;
  const arn = (kind, rest) => `arn:aws:iot:${process.env.AWS_REGION}:${event.awsAccountId}:${kind}/${rest}`;
  const policyDocument = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["iot:Connect"], Resource: [arn("client", thingName)] },
      { Effect: "Allow", Action: ["iot:Publish", "iot:Receive"], Resource: [arn("topic", "$aws/things/${iot:ClientId}/shadow/*")] },
      { Effect: "Allow", Action: ["iot:Subscribe"], Resource: [arn("topicfilter", "$aws/things/${iot:ClientId}/shadow/*")] },
    ],
  });
  await iot.send(new CreateThingTypeCommand({ thingTypeName: "microchip-zero-touch-kit" })).catch(exists);
  await iot.send(new CreateThingCommand({ thingName, thingTypeName: "microchip-zero-touch-kit" }));
  await iot.send(new CreatePolicyCommand({ policyName, policyDocument })).catch(exists);
  await iot.send(new AttachPrincipalPolicyCommand({ policyName, principal: d.certificateArn }));
  await iot.send(new AttachThingPrincipalCommand({ thingName, principal: d.certificateArn }));
  await iot.send(new UpdateCertificateCommand({ certificateId: event.certificateId, newStatus: "ACTIVE" }));
  console.log(`thing ${thingName}, policy ${policyName}`);
  return { thingName, policyName };
};
