/**
 * The emulator's HTTP side: AWS IoT's control plane (rest-json, as @aws-sdk/client-iot sends it),
 * iot-data (@aws-sdk/client-iot-data-plane: shadows and Publish), `/_zt/faults` for fault knobs, and
 * `/_zt/events` and `/_zt/keylog` so a harness on another host observes JITR and decrypts captures.
 * Requests are not SigV4-checked: the emulator trusts the host it runs on. Errors carry AWS's
 * exception name in x-amzn-ErrorType with a JSON {"message"} body, so SDK clients raise the same
 * exception classes they raise against AWS.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { AwsError, invalid } from "./aws-error.ts";
import type { DataPlane, EmulatorEvent } from "./data-plane.ts";
import { parseFaults, type Faults } from "./faults.ts";
import type { IotService } from "./iot-service.ts";
import { dict, parseData } from "./json-data.ts";

/** The largest request body the API takes (AWS IoT's own requests are kilobytes; iot-data payloads 128 KB). */
export const MAX_BODY_BYTES = 1 << 20;
/** A request must arrive whole within this time. */
export const REQUEST_TIMEOUT_MS = 10_000;

interface Req {
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: Buffer;
  json: () => Record<string, unknown>;
}

/** A handler's answer: a JSON-able object, or raw bytes (iot-data payloads). */
type Handler = (r: Req) => unknown;

const bool = (q: URLSearchParams, k: string) => q.get(k) === "true";
const str = (v: unknown) => (typeof v === "string" ? v : undefined);
const header = (r: Req, k: string) => str(r.headers[k]);

export interface Observations {
  events: () => readonly EmulatorEvent[];
  keyLog: () => readonly string[];
}

export function createHttpApi(iot: IotService, data: DataPlane, faults: Faults, observe: Observations): Server {
  const routes: [string, RegExp, string[], Handler][] = [];
  const route = (method: string, path: string, h: Handler) => {
    const names: string[] = [];
    const re = new RegExp(`^${path.replace(/\{(\w+)\}/g, (_m, n: string) => (names.push(n), "([^/]+)"))}$`);
    routes.push([method, re, names, h]);
  };

  route("GET", "/registrationcode", () => iot.getRegistrationCode());
  route("GET", "/endpoint", (r) => iot.describeEndpoint(r.query.get("endpointType") ?? undefined));
  route("POST", "/cacertificate", (r) => iot.registerCACertificate(r.json(), bool(r.query, "setAsActive"), bool(r.query, "allowAutoRegistration")));
  route("GET", "/cacertificates", () => iot.listCACertificates());
  route("GET", "/cacertificate/{id}", (r) => iot.describeCACertificate(r.params.id!));
  route("PUT", "/cacertificate/{id}", (r) => iot.updateCACertificate(r.params.id!, r.query.get("newStatus") ?? undefined, r.query.get("newAutoRegistrationStatus") ?? undefined));
  route("DELETE", "/cacertificate/{id}", (r) => iot.deleteCACertificate(r.params.id!));
  route("POST", "/certificate/register", (r) => iot.registerCertificate(r.json(), bool(r.query, "setAsActive")));
  route("POST", "/certificate/register-no-ca", (r) => iot.registerCertificateWithoutCA(r.json()));
  route("GET", "/certificates", () => iot.listCertificates());
  route("GET", "/certificates/{id}", (r) => iot.describeCertificate(r.params.id!));
  route("PUT", "/certificates/{id}", (r) => iot.updateCertificate(r.params.id!, r.query.get("newStatus") ?? undefined));
  route("DELETE", "/certificates/{id}", (r) => iot.deleteCertificate(r.params.id!, bool(r.query, "forceDelete")));
  route("GET", "/certificates-by-ca/{id}", (r) => iot.listCertificates(r.params.id!));
  route("POST", "/policies/{name}", (r) => iot.createPolicy(r.params.name!, r.json().policyDocument));
  route("GET", "/policies/{name}", (r) => iot.getPolicy(r.params.name!));
  route("DELETE", "/policies/{name}", (r) => iot.deletePolicy(r.params.name!));
  route("PUT", "/target-policies/{name}", (r) => iot.attachPolicy(r.params.name!, r.json().target));
  route("POST", "/target-policies/{name}", (r) => iot.detachPolicy(r.params.name!, r.json().target));
  route("PUT", "/principal-policies/{name}", (r) => iot.attachPolicy(r.params.name!, header(r, "x-amzn-iot-principal")));
  route("DELETE", "/principal-policies/{name}", (r) => iot.detachPolicy(r.params.name!, header(r, "x-amzn-iot-principal")));
  route("POST", "/attached-policies/{target}", (r) => iot.listAttachedPolicies(r.params.target!));
  route("POST", "/thing-types/{name}", (r) => iot.createThingType(r.params.name!, r.json().thingTypeProperties as Record<string, unknown> | undefined));
  route("GET", "/thing-types/{name}", (r) => iot.describeThingType(r.params.name!));
  route("GET", "/things", () => iot.listThings());
  route("POST", "/things/{name}", (r) => iot.createThing(r.params.name!, r.json()));
  route("GET", "/things/{name}", (r) => iot.describeThing(r.params.name!));
  route("DELETE", "/things/{name}", (r) => iot.deleteThing(r.params.name!));
  route("PUT", "/things/{name}/principals", (r) => iot.attachThingPrincipal(r.params.name!, header(r, "x-amzn-principal")));
  route("DELETE", "/things/{name}/principals", (r) => iot.detachThingPrincipal(r.params.name!, header(r, "x-amzn-principal")));
  route("GET", "/things/{name}/principals", (r) => iot.listThingPrincipals(r.params.name!));
  route("POST", "/rules/{name}", (r) => iot.createTopicRule(r.params.name!, r.json()));
  route("GET", "/rules/{name}", (r) => iot.getTopicRule(r.params.name!));
  route("DELETE", "/rules/{name}", (r) => iot.deleteTopicRule(r.params.name!));

  // iot-data: classic shadows and publish
  const shadowOp = (op: "update" | "get" | "delete") => (r: Req) => {
    if (r.query.get("name")) throw invalid("named shadows are not supported by the emulator");
    const result = data.shadowRequest(r.params.name!, op, r.body);
    if (!result.ok) {
      const type = result.error.code === 404 ? "ResourceNotFoundException" : result.error.code === 409 ? "ConflictException" : "InvalidRequestException";
      throw new AwsError(type, result.error.code, result.error.message);
    }
    return Buffer.from(JSON.stringify(result.response));
  };
  route("GET", "/things/{name}/shadow", shadowOp("get"));
  route("POST", "/things/{name}/shadow", shadowOp("update"));
  route("DELETE", "/things/{name}/shadow", shadowOp("delete"));
  route("POST", "/topics/{topic}", (r) => {
    data.broker.publish({ cmd: "publish", topic: r.params.topic!, payload: r.body, qos: Number(r.query.get("qos") ?? 0) === 1 ? 1 : 0, retain: bool(r.query, "retain"), dup: false }, () => {});
    return {};
  });

  // observation (what happened, for remote labs) and fault knobs
  route("GET", "/_zt/events", (r) => observe.events().slice(Number(r.query.get("since") ?? 0)));
  route("GET", "/_zt/keylog", () => Buffer.from(observe.keyLog().join("\n") + "\n"));
  route("GET", "/_zt/faults", () => faults);
  route("POST", "/_zt/faults", (r) => {
    try {
      Object.assign(faults, parseFaults(r.json()));
    } catch (err) {
      throw invalid((err as Error).message);
    }
    return faults;
  });

  const send = (res: ServerResponse, status: number, body: Buffer | string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES && !refused) {
        refused = true;
        send(res, 413, JSON.stringify({ message: `request body over ${MAX_BODY_BYTES} bytes` }), { "x-amzn-errortype": "RequestEntityTooLargeException", connection: "close" });
        req.destroy();
      }
      if (!refused) chunks.push(c);
    });
    req.on("end", () => {
      if (refused) return;
      const url = new URL(req.url ?? "/", "http://emulator");
      try {
        for (const [method, re, names, h] of routes) {
          if (method !== req.method) continue;
          const m = re.exec(url.pathname);
          if (!m) continue;
          const params = dict<string>();
          for (const [i, n] of names.entries()) {
            try {
              params[n] = decodeURIComponent(m[i + 1]!);
            } catch {
              throw new AwsError("InvalidRequestException", 400, `${n} is not valid percent-encoding`);
            }
          }
          const body = Buffer.concat(chunks);
          const out = h({
            params,
            query: url.searchParams,
            headers: req.headers,
            body,
            json: () => {
              if (!body.length) return dict<unknown>();
              let v: unknown;
              try {
                v = parseData(body.toString());
              } catch {
                throw new AwsError("SerializationException", 400, "request body is not JSON");
              }
              if (typeof v !== "object" || v === null || Array.isArray(v)) throw new AwsError("SerializationException", 400, "request body is not a JSON object");
              return v as Record<string, unknown>;
            },
          });
          return send(res, 200, Buffer.isBuffer(out) ? out : JSON.stringify(out));
        }
        throw new AwsError("UnknownOperationException", 404, `the emulator has no operation for ${req.method} ${url.pathname}`);
      } catch (err) {
        if (err instanceof AwsError) return send(res, err.status, JSON.stringify({ message: err.message }), { "x-amzn-errortype": err.type });
        send(res, 500, JSON.stringify({ message: (err as Error).message }), { "x-amzn-errortype": "InternalFailureException" });
      }
    });
  });
  // A client that sends slowly or never finishes is cut off (Node's defaults allow 5 minutes).
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  return server;
}
