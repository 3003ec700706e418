/**
 * The control plane's semantics, independent of HTTP: what AWS IoT does for each operation the kit's
 * provisioning and the harness use, with AWS's error names and status codes (KIT-FACTS §8–9).
 * Registration codes are checked (verification certificate CN and signature), certificate ids are the
 * SHA-256 of the DER, status transitions are enforced.
 */
import { createHash, randomUUID, X509Certificate } from "node:crypto";
import { dict } from "./json-data.ts";
import { AwsError, certInvalid, conflict, deleteConflict, invalid, notFound, stateError } from "./aws-error.ts";
import { parseRuleSql } from "./rules.ts";
import type { CaRecord, CertRecord, CertStatus, Store } from "./store.ts";

export interface Account {
  region: string;
  accountId: string;
}

const nowSeconds = () => Date.now() / 1000;

function parsePem(pem: unknown, what: string): X509Certificate {
  if (typeof pem !== "string" || !pem.includes("-----BEGIN CERTIFICATE-----")) throw certInvalid(`${what} is not a PEM certificate`);
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw certInvalid(`${what} cannot be parsed: ${(err as Error).message}`);
  }
}

export function certificateIdOf(cert: X509Certificate): string {
  return createHash("sha256").update(cert.raw).digest("hex");
}

function cn(subject: string): string | undefined {
  return /(?:^|\n)CN=([^\n]*)/.exec(subject)?.[1];
}

const CERT_STATUSES = ["ACTIVE", "INACTIVE", "REVOKED", "PENDING_TRANSFER", "REGISTER_INACTIVE", "PENDING_ACTIVATION"];

function validity(cert: X509Certificate) {
  return { notBefore: new Date(cert.validFrom).getTime() / 1000, notAfter: new Date(cert.validTo).getTime() / 1000 };
}

export class IotService {
  constructor(
    readonly store: Store,
    readonly account: Account,
    private readonly endpoint: () => string,
  ) {}

  private get s() {
    return this.store.state;
  }

  arn(kind: string, name: string): string {
    return `arn:aws:iot:${this.account.region}:${this.account.accountId}:${kind}/${name}`;
  }

  private commit<T>(value: T): T {
    this.store.save();
    return value;
  }

  getRegistrationCode() {
    return { registrationCode: this.s.registrationCode };
  }

  describeEndpoint(type: string | undefined) {
    if (type && !["iot:Data", "iot:Data-ATS", "iot:CredentialProvider", "iot:Jobs"].includes(type)) throw invalid(`unknown endpointType ${type}`);
    return { endpointAddress: this.endpoint() };
  }

  // --- CA certificates ---------------------------------------------------------------------------

  registerCACertificate(body: { caCertificate?: string; verificationCertificate?: string; certificateMode?: string }, setAsActive: boolean, allowAutoRegistration: boolean) {
    const ca = parsePem(body.caCertificate, "caCertificate");
    if (!ca.ca) throw certInvalid("caCertificate is not a CA certificate (basicConstraints CA:TRUE missing)");
    const mode = body.certificateMode === "SNI_ONLY" ? "SNI_ONLY" : "DEFAULT";
    if (mode === "DEFAULT") {
      const v = parsePem(body.verificationCertificate, "verificationCertificate");
      if (cn(v.subject) !== this.s.registrationCode) throw new AwsError("RegistrationCodeValidationException", 400, "The certificate's common name does not match the registration code");
      if (!v.verify(ca.publicKey)) throw certInvalid("verificationCertificate is not signed by the CA certificate's key");
    }
    const id = certificateIdOf(ca);
    if (this.s.cas[id]) throw conflict(`CA certificate ${id} already exists`);
    const t = nowSeconds();
    this.s.cas[id] = { id, pem: ca.toString(), status: setAsActive ? "ACTIVE" : "INACTIVE", autoRegistration: allowAutoRegistration ? "ENABLE" : "DISABLE", mode, created: t, modified: t, generation: 1 };
    return this.commit({ certificateArn: this.arn("cacert", id), certificateId: id });
  }

  private ca(id: string): CaRecord {
    const ca = this.s.cas[id];
    if (!ca) throw notFound(`CA certificate ${id}`);
    return ca;
  }

  describeCACertificate(id: string) {
    const ca = this.ca(id);
    const x = new X509Certificate(ca.pem);
    return {
      certificateDescription: {
        certificateArn: this.arn("cacert", id),
        certificateId: id,
        status: ca.status,
        certificatePem: ca.pem,
        ownedBy: this.account.accountId,
        creationDate: ca.created,
        autoRegistrationStatus: ca.autoRegistration,
        lastModifiedDate: ca.modified,
        customerVersion: ca.generation,
        generationId: String(ca.generation),
        validity: validity(x),
        certificateMode: ca.mode,
      },
    };
  }

  updateCACertificate(id: string, newStatus?: string, newAuto?: string) {
    const ca = this.ca(id);
    if (newStatus !== undefined && newStatus !== "ACTIVE" && newStatus !== "INACTIVE") throw invalid(`newStatus ${newStatus} is not ACTIVE or INACTIVE`);
    if (newAuto !== undefined && newAuto !== "ENABLE" && newAuto !== "DISABLE") throw invalid(`newAutoRegistrationStatus ${newAuto} is not ENABLE or DISABLE`);
    if (newStatus) ca.status = newStatus;
    if (newAuto) ca.autoRegistration = newAuto;
    ca.modified = nowSeconds();
    ca.generation++;
    return this.commit({});
  }

  deleteCACertificate(id: string) {
    const ca = this.ca(id);
    if (ca.status === "ACTIVE") throw stateError("CA certificate is ACTIVE: set it INACTIVE before deleting it");
    delete this.s.cas[id];
    return this.commit({});
  }

  listCACertificates() {
    return { certificates: Object.values(this.s.cas).map((c) => ({ certificateArn: this.arn("cacert", c.id), certificateId: c.id, status: c.status, creationDate: c.created })) };
  }

  // --- device certificates -----------------------------------------------------------------------

  /** The registered CA that issued `cert` (issuer name match and signature check), if any. */
  issuingCa(cert: X509Certificate): CaRecord | undefined {
    return Object.values(this.s.cas).find((ca) => {
      const x = new X509Certificate(ca.pem);
      return cert.checkIssued(x) && cert.verify(x.publicKey);
    });
  }

  private addCert(cert: X509Certificate, status: CertStatus, caId: string | null): CertRecord {
    const id = certificateIdOf(cert);
    if (this.s.certs[id]) throw conflict(`certificate ${id} already exists`);
    const t = nowSeconds();
    const rec: CertRecord = { id, pem: cert.toString(), status, caId, mode: "DEFAULT", created: t, modified: t, generation: 1 };
    this.s.certs[id] = rec;
    return rec;
  }

  private initialStatus(setAsActive: boolean, status?: string): CertStatus {
    if (status !== undefined && !CERT_STATUSES.includes(status)) throw invalid(`status ${status} is not a certificate status`);
    if (status === "PENDING_ACTIVATION" || status === "PENDING_TRANSFER") throw stateError(`a certificate cannot be registered with status ${status}`);
    return (status as CertStatus | undefined) ?? (setAsActive ? "ACTIVE" : "INACTIVE");
  }

  registerCertificate(body: { certificatePem?: string; caCertificatePem?: string; status?: string }, setAsActive: boolean) {
    const cert = parsePem(body.certificatePem, "certificatePem");
    const status = this.initialStatus(setAsActive, body.status);
    let ca: CaRecord | undefined;
    if (body.caCertificatePem) {
      const given = parsePem(body.caCertificatePem, "caCertificatePem");
      ca = this.s.cas[certificateIdOf(given)];
      if (!ca) throw certInvalid("caCertificatePem is not a registered CA certificate");
      if (!cert.verify(given.publicKey)) throw certInvalid("certificatePem is not signed by caCertificatePem");
    } else {
      ca = this.issuingCa(cert);
      if (!ca) throw certInvalid("the certificate's CA is not registered");
    }
    const rec = this.addCert(cert, status, ca.id);
    return this.commit({ certificateArn: this.arn("cert", rec.id), certificateId: rec.id });
  }

  registerCertificateWithoutCA(body: { certificatePem?: string; status?: string }) {
    const cert = parsePem(body.certificatePem, "certificatePem");
    const rec = this.addCert(cert, this.initialStatus(false, body.status), null);
    return this.commit({ certificateArn: this.arn("cert", rec.id), certificateId: rec.id });
  }

  /** JITR: register an unknown certificate of an auto-registering CA as PENDING_ACTIVATION. */
  registerPending(cert: X509Certificate, caId: string): CertRecord {
    return this.commit(this.addCert(cert, "PENDING_ACTIVATION", caId));
  }

  cert(id: string): CertRecord {
    const c = this.s.certs[id];
    if (!c) throw notFound(`certificate ${id}`);
    return c;
  }

  describeCertificate(id: string) {
    const c = this.cert(id);
    return {
      certificateDescription: {
        certificateArn: this.arn("cert", id),
        certificateId: id,
        ...(c.caId ? { caCertificateId: c.caId } : {}),
        status: c.status,
        certificatePem: c.pem,
        ownedBy: this.account.accountId,
        creationDate: c.created,
        lastModifiedDate: c.modified,
        customerVersion: c.generation,
        generationId: String(c.generation),
        validity: validity(new X509Certificate(c.pem)),
        certificateMode: c.mode,
      },
    };
  }

  updateCertificate(id: string, newStatus: string | undefined) {
    const c = this.cert(id);
    if (!newStatus || !CERT_STATUSES.includes(newStatus)) throw invalid(`newStatus ${newStatus ?? "(missing)"} is not a certificate status`);
    if (newStatus === "PENDING_ACTIVATION" || newStatus === "PENDING_TRANSFER") throw invalid(`newStatus cannot be ${newStatus}`);
    if (c.status === "REVOKED" && newStatus === "ACTIVE") throw stateError("a REVOKED certificate cannot be activated");
    c.status = newStatus as CertStatus;
    c.modified = nowSeconds();
    c.generation++;
    return this.commit({});
  }

  deleteCertificate(id: string, force: boolean) {
    const c = this.cert(id);
    if (c.status === "ACTIVE") throw stateError("certificate is ACTIVE: deactivate it before deleting it");
    const arn = this.arn("cert", id);
    if (Object.values(this.s.things).some((t) => t.principals.includes(arn))) throw deleteConflict("certificate is attached to a thing");
    const policies = Object.entries(this.s.policyTargets).filter(([, targets]) => targets.includes(arn));
    if (policies.length && !force) throw deleteConflict(`certificate has ${policies.length} attached polic${policies.length === 1 ? "y" : "ies"}`);
    for (const [name] of policies) this.s.policyTargets[name] = this.s.policyTargets[name]!.filter((t) => t !== arn);
    delete this.s.certs[id];
    return this.commit({});
  }

  listCertificates(caId?: string) {
    if (caId) this.ca(caId);
    const list = Object.values(this.s.certs).filter((c) => !caId || c.caId === caId);
    return { certificates: list.map((c) => ({ certificateArn: this.arn("cert", c.id), certificateId: c.id, status: c.status, certificateMode: c.mode, creationDate: c.created })) };
  }

  // --- policies --------------------------------------------------------------------------------

  createPolicy(name: string, document: unknown) {
    if (!/^[\w+=,.@-]{1,128}$/.test(name)) throw invalid(`policy name ${name} is not valid`);
    if (typeof document !== "string") throw new AwsError("MalformedPolicyException", 400, "policyDocument is required");
    try {
      const doc = JSON.parse(document) as { Statement?: unknown };
      if (!Array.isArray(doc.Statement) && typeof doc.Statement !== "object") throw new Error("no Statement");
    } catch (err) {
      throw new AwsError("MalformedPolicyException", 400, `policyDocument is not a policy: ${(err as Error).message}`);
    }
    if (this.s.policies[name]) throw conflict(`policy ${name} already exists`);
    const t = nowSeconds();
    this.s.policies[name] = { name, document, created: t, modified: t, generation: 1 };
    return this.commit({ policyName: name, policyArn: this.arn("policy", name), policyDocument: document, policyVersionId: "1" });
  }

  private policy(name: string) {
    const p = this.s.policies[name];
    if (!p) throw notFound(`policy ${name}`);
    return p;
  }

  getPolicy(name: string) {
    const p = this.policy(name);
    return { policyName: name, policyArn: this.arn("policy", name), policyDocument: p.document, defaultVersionId: "1", creationDate: p.created, lastModifiedDate: p.modified, generationId: String(p.generation) };
  }

  deletePolicy(name: string) {
    this.policy(name);
    if (this.s.policyTargets[name]?.length) throw deleteConflict(`policy ${name} is attached to ${this.s.policyTargets[name]!.length} target(s)`);
    delete this.s.policies[name];
    delete this.s.policyTargets[name];
    return this.commit({});
  }

  private principalExists(arn: string): void {
    const m = /:cert\/([0-9a-f]{64})$/.exec(arn);
    if (!m || !this.s.certs[m[1]!]) throw notFound(`principal ${arn}`);
  }

  attachPolicy(name: string, target: unknown) {
    this.policy(name);
    if (typeof target !== "string") throw invalid("target is required");
    this.principalExists(target);
    const list = (this.s.policyTargets[name] ??= []);
    if (!list.includes(target)) list.push(target);
    return this.commit({});
  }

  detachPolicy(name: string, target: unknown) {
    this.policy(name);
    if (typeof target !== "string") throw invalid("target is required");
    this.s.policyTargets[name] = (this.s.policyTargets[name] ?? []).filter((t) => t !== target);
    return this.commit({});
  }

  /** Policies attached to a principal (certificate ARN). */
  policiesOf(target: string) {
    return Object.entries(this.s.policyTargets)
      .filter(([, targets]) => targets.includes(target))
      .map(([name]) => this.s.policies[name]!)
      .filter(Boolean);
  }

  listAttachedPolicies(target: string) {
    return { policies: this.policiesOf(target).map((p) => ({ policyName: p.name, policyArn: this.arn("policy", p.name) })) };
  }

  // --- things ----------------------------------------------------------------------------------

  createThingType(name: string, properties: Record<string, unknown> | undefined) {
    if (!/^[a-zA-Z0-9:_-]{1,128}$/.test(name)) throw invalid(`thing type name ${name} is not valid`);
    if (this.s.thingTypes[name]) throw conflict(`thing type ${name} already exists`);
    const id = randomUUID();
    this.s.thingTypes[name] = { name, id, created: nowSeconds(), properties: properties ?? dict() };
    return this.commit({ thingTypeName: name, thingTypeArn: this.arn("thingtype", name), thingTypeId: id });
  }

  describeThingType(name: string) {
    const t = this.s.thingTypes[name];
    if (!t) throw notFound(`thing type ${name}`);
    return { thingTypeName: name, thingTypeId: t.id, thingTypeArn: this.arn("thingtype", name), thingTypeProperties: t.properties, thingTypeMetadata: { deprecated: false, creationDate: t.created } };
  }

  createThing(name: string, body: { thingTypeName?: string; attributePayload?: { attributes?: Record<string, string> } }) {
    if (!/^[a-zA-Z0-9:_-]{1,128}$/.test(name)) throw invalid(`thing name ${name} is not valid`);
    if (body.thingTypeName && !this.s.thingTypes[body.thingTypeName]) throw notFound(`thing type ${body.thingTypeName}`);
    const attributes = body.attributePayload?.attributes ?? dict<string>();
    const existing = this.s.things[name];
    if (existing) {
      const same = existing.type === (body.thingTypeName ?? null) && JSON.stringify(existing.attributes) === JSON.stringify(attributes);
      if (!same) throw conflict(`thing ${name} already exists with different attributes`);
      return { thingName: name, thingArn: this.arn("thing", name), thingId: existing.id };
    }
    const id = randomUUID();
    this.s.things[name] = { name, id, type: body.thingTypeName ?? null, attributes, version: 1, principals: [] };
    return this.commit({ thingName: name, thingArn: this.arn("thing", name), thingId: id });
  }

  thing(name: string) {
    const t = this.s.things[name];
    if (!t) throw notFound(`thing ${name}`);
    return t;
  }

  describeThing(name: string) {
    const t = this.thing(name);
    return { defaultClientId: name, thingName: name, thingId: t.id, thingArn: this.arn("thing", name), ...(t.type ? { thingTypeName: t.type } : {}), attributes: t.attributes, version: t.version };
  }

  deleteThing(name: string) {
    const t = this.thing(name);
    if (t.principals.length) throw invalid(`thing ${name} still has ${t.principals.length} principal(s) attached`);
    delete this.s.things[name];
    delete this.s.shadows[name];
    return this.commit({});
  }

  listThings() {
    return { things: Object.values(this.s.things).map((t) => ({ thingName: t.name, thingArn: this.arn("thing", t.name), ...(t.type ? { thingTypeName: t.type } : {}), attributes: t.attributes, version: t.version })) };
  }

  attachThingPrincipal(name: string, principal: string | undefined) {
    const t = this.thing(name);
    if (!principal) throw invalid("x-amzn-principal header is required");
    this.principalExists(principal);
    if (!t.principals.includes(principal)) t.principals.push(principal);
    return this.commit({});
  }

  detachThingPrincipal(name: string, principal: string | undefined) {
    const t = this.thing(name);
    t.principals = t.principals.filter((p) => p !== principal);
    return this.commit({});
  }

  listThingPrincipals(name: string) {
    return { principals: [...this.thing(name).principals] };
  }

  /** Things a principal is attached to. */
  thingsOf(principal: string): string[] {
    return Object.values(this.s.things)
      .filter((t) => t.principals.includes(principal))
      .map((t) => t.name);
  }

  // --- topic rules -----------------------------------------------------------------------------

  createTopicRule(name: string, payload: { sql?: string; description?: string; actions?: unknown[]; ruleDisabled?: boolean; awsIotSqlVersion?: string }) {
    if (!/^[a-zA-Z0-9_]+$/.test(name)) throw invalid(`rule name ${name} is not valid`);
    if (typeof payload?.sql !== "string") throw new AwsError("SqlParseException", 400, "sql is required");
    parseRuleSql(payload.sql);
    if (this.s.rules[name]) throw conflict(`rule ${name} already exists`);
    this.s.rules[name] = { name, sql: payload.sql, ...(payload.description ? { description: payload.description } : {}), actions: payload.actions ?? [], disabled: Boolean(payload.ruleDisabled), sqlVersion: payload.awsIotSqlVersion ?? "2016-03-23", created: nowSeconds() };
    return this.commit({});
  }

  getTopicRule(name: string) {
    const r = this.s.rules[name];
    if (!r) throw new AwsError("UnauthorizedException", 401, `rule ${name} does not exist`);
    return { ruleArn: this.arn("rule", name), rule: { ruleName: name, sql: r.sql, description: r.description, createdAt: r.created, actions: r.actions, ruleDisabled: r.disabled, awsIotSqlVersion: r.sqlVersion } };
  }

  deleteTopicRule(name: string) {
    if (!this.s.rules[name]) throw new AwsError("UnauthorizedException", 401, `rule ${name} does not exist`);
    delete this.s.rules[name];
    return this.commit({});
  }
}
