// A customer's JITR Lambda with a bug: it throws before it does anything. Written for zt-hil's tests.
exports.handler = async (event) => {
  console.log("looking up the device registry for", event.certificateId);
  throw new Error("DeviceRegistry table not found");
};
