// A customer's JITR Lambda that registers the thing and returns without activating the certificate.
// Written for zt-hil's tests.
import { CreateThingCommand, IoTClient } from "@aws-sdk/client-iot";

export const handler = async (event) => {
  const thingName = `kit-${event.certificateId.slice(0, 12)}`;
  await new IoTClient({}).send(new CreateThingCommand({ thingName }));
  console.log(`registered ${thingName}`);
  return { thingName };
};
