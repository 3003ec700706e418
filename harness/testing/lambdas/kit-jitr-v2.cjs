// A customer's JITR Lambda in CommonJS with aws-sdk v2 (the Node.js 16-and-older runtimes' SDK, still in
// many deployed Lambdas), callback style: the kit's flow. Written for zt-hil's tests.
const crypto = require("crypto");
const AWS = require("aws-sdk");

const iot = new AWS.Iot();

function thingNameOf(pem) {
  const jwk = new crypto.X509Certificate(pem).publicKey.export({ format: "jwk" });
  return crypto.createHash("sha1").update(Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, "base64url"), Buffer.from(jwk.y, "base64url")])).digest("hex");
}

exports.handler = (event, context, callback) => {
  console.log("JITR (aws-sdk v2) for", event.certificateId, "in", context.functionName);
  const policyName = "ZTPolicy_" + event.certificateId;
  iot
    .describeCertificate({ certificateId: event.certificateId })
    .promise()
    .then(async ({ certificateDescription: d }) => {
      const thingName = thingNameOf(d.certificatePem);
      const arn = (kind, rest) => "arn:aws:iot:" + process.env.AWS_REGION + ":" + event.awsAccountId + ":" + kind + "/" + rest;
      const policyDocument = JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: ["iot:Connect"], Resource: [arn("client", thingName)] },
          { Effect: "Allow", Action: ["iot:Publish", "iot:Receive"], Resource: [arn("topic", "$aws/things/${iot:ClientId}/shadow/*")] },
          { Effect: "Allow", Action: ["iot:Subscribe"], Resource: [arn("topicfilter", "$aws/things/${iot:ClientId}/shadow/*")] },
        ],
      });
      await iot.createThingType({ thingTypeName: "microchip-zero-touch-kit" }).promise().catch((e) => { if (e.code !== "ResourceAlreadyExistsException") throw e; });
      await iot.createThing({ thingName, thingTypeName: "microchip-zero-touch-kit" }).promise();
      await iot.createPolicy({ policyName, policyDocument }).promise();
      await iot.attachPrincipalPolicy({ policyName, principal: d.certificateArn }).promise();
      await iot.attachThingPrincipal({ thingName, principal: d.certificateArn }).promise();
      await iot.updateCertificate({ certificateId: event.certificateId, newStatus: "ACTIVE" }).promise();
      return { thingName, policyName };
    })
    .then((r) => callback(null, r), callback);
};
