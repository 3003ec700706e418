/**
 * The catalog of field failures zt-hil can reproduce: one registry, each entry with what the field
 * sees, how the virtual lab injects it (the twin, the emulator, the in-line recorder as a link shaper,
 * the cloud's own API, power), the kit's console lines it produces, the spec it turns red and how
 * `zt-hil analyze --diagnose` recognises it (harness/faults/recognize.ts). `ZT_FAULTS=name[=value],…`
 * switches entries on for a run (harness/faults/lab-faults.ts); `zt-hil faults` prints this table.
 * Console lines are firmware v2.2.5's (rigs/virtual-kit/CONFORMANCE.md cites their source).
 */
import type { Faults } from "../cloud/emulator/faults.ts";

/** What a run's faults set, by where they act. */
export interface FaultSettings {
  /** The emulator's fault knobs (harness/cloud/emulator/faults.ts). */
  cloud: Partial<Faults>;
  /** The virtual kit (rigs/virtual-kit/): chip faults, the lab AP and DNS, what the WINC trusts, a power cut. */
  twin: {
    ateccSlowFactor: number;
    crcErrors: number;
    wakeFailures: number;
    /** The lab AP's passphrase, when it is not the one the kit is provisioned with. */
    apPsk: string | null;
    /** The lab DNS has no record for the cloud's endpoint name. */
    dnsMissing: boolean;
    /** The kit trusts a root that did not issue the cloud's server chain. */
    untrustedServer: boolean;
    /** The kit loses power when the host hands it this kit-protocol method. */
    powerCutOn: string | null;
  };
  /** The in-line recorder between kit and cloud, as a link shaper. */
  link: { latencyMs: number; resetAfterServerBytes: number | null; idleDropMs: number | null; lossesPerChunk: number; fragment: { bytes: number; bitsPerSecond: number } | null };
  /** Changes made through the cloud's own API (so they work on AWS too). */
  cloudActions: { deactivateSignerCa: boolean };
}

export const NO_FAULTS = (): FaultSettings => ({
  cloud: {},
  twin: { ateccSlowFactor: 1, crcErrors: 0, wakeFailures: 0, apPsk: null, dnsMissing: false, untrustedServer: false, powerCutOn: null },
  link: { latencyMs: 0, resetAfterServerBytes: null, idleDropMs: null, lossesPerChunk: 0, fragment: null },
  cloudActions: { deactivateSignerCa: false },
});

export type Layer = "Wi-Fi" | "DNS" | "TCP" | "TLS" | "JITR" | "MQTT" | "policy" | "ATECC" | "power";

export interface FaultEntry {
  name: string;
  /** `name=VALUE`: what the value is; absent for a plain switch. */
  value?: { what: string; default?: number; integer?: boolean };
  layer: Layer;
  /** What the field sees. */
  field: string;
  /** Where zt-hil injects it. */
  injectedBy: "twin" | "emulator" | "recorder" | "cloud API" | "power";
  /** The kit's console lines it produces (v2.2.5). */
  console: string[];
  /** The spec that fails with it, the symptom its message names, and a pattern of that message. */
  /** The spec (and, where the spec has several tests, the title of the one that goes red) and its symptom. */
  red: { spec: string; test?: string; symptom: string; expect: RegExp };
  /** How `analyze --diagnose` recognises it. */
  diagnose: string;
  apply(s: FaultSettings, value: number): void;
}

const CONNECT_FAILED = "ERROR:    The AWS IoT Demo failed to connect with the MQTT connect message.";
/** The WINC's socket callback when the TLS connection fails (aws_wifi_task.c prints the raw event). */
const TLS_FAILED = "SOCKET_MSG_CONNECT error SOCK_ERR_CONN_ABORTED(-12)";
const ATECC_FAILED = "ERROR:    An ATECCx08A initialization error has occurred.";

export const FAULTS: FaultEntry[] = [
  {
    name: "wifi-wrong-psk",
    layer: "Wi-Fi",
    field: "the access point's passphrase changed: the kit never joins the network",
    injectedBy: "twin",
    console: ["WINC1500 WIFI: Disconnected from the WIFI access point."],
    red: { spec: "provisioning", symptom: "the kit never joined the access point", expect: /wifi-wrong-psk: the kit never joined the access point/ },
    diagnose: "console: AP disconnects with no DHCP lease; capture: no connection",
    apply: (s) => void (s.twin.apPsk = "the-ap-changed-its-psk"),
  },
  {
    name: "dns-failure",
    layer: "DNS",
    field: "the endpoint name does not resolve: the kit never opens a connection",
    injectedBy: "twin",
    console: ["ERROR:    WINC1500 DNS lookup failed."],
    red: { spec: "provisioning", symptom: "the endpoint name did not resolve", expect: /dns-failure: the WINC could not resolve the endpoint name/ },
    diagnose: "console: the WINC's DNS failure line; capture: no connection",
    apply: (s) => void (s.twin.dnsMissing = true),
  },
  {
    name: "link-reset",
    value: { what: "bytes from the server before the reset", default: 200, integer: true },
    layer: "TCP",
    field: "a middlebox resets every connection mid-handshake",
    injectedBy: "recorder",
    console: [TLS_FAILED],
    red: { spec: "provisioning", symptom: "connection reset during the TLS handshake", expect: /link-reset: TCP reset before the TLS handshake completed/ },
    diagnose: "capture: TCP RST before the handshake completed",
    apply: (s, v) => void (s.link.resetAfterServerBytes = v),
  },
  {
    name: "link-latency",
    value: { what: "one-way delay in ms", default: 1500 },
    layer: "TCP",
    field: "a slow link (satellite, congested cellular): every flight arrives late, and a CONNACK later than Paho's 2 s command timeout fails every MQTT connect",
    injectedBy: "recorder",
    console: [CONNECT_FAILED],
    red: { spec: "provisioning", symptom: "a slow link", expect: /link-latency: the server's first flight came \d+ ms or more after the ClientHello: a slow link/ },
    diagnose: "capture: the server answers the ClientHello only after a long round trip",
    apply: (s, v) => void (s.link.latencyMs = v),
  },
  {
    name: "link-loss",
    value: { what: "transmissions lost before each segment gets through", default: 3, integer: true },
    layer: "TCP",
    field: "a lossy link (weak Wi-Fi, a congested uplink): every segment costs retransmission timeouts (200 ms doubling), so a CONNACK comes later than Paho's 2 s command timeout",
    injectedBy: "recorder",
    console: [CONNECT_FAILED],
    red: { spec: "provisioning", symptom: "retransmissions", expect: /link-loss: \d+ retransmitted segment\(s\)/ },
    diagnose: "capture: TCP retransmissions (the same sequence numbers sent again)",
    apply: (s, v) => void (s.link.lossesPerChunk = v),
  },
  {
    name: "link-fragment",
    value: { what: "largest TCP payload in bytes (at 9600 bit/s)", default: 28, integer: true },
    layer: "TCP",
    field: "a tiny-MTU narrowband link (a 9.6 kbit/s radio bridge with 68-byte packets): every TLS record crosses in tiny TCP segments, each taking its serialization time, so the handshake's flights take seconds",
    injectedBy: "recorder",
    console: [],
    red: { spec: "crypto-latency", symptom: "handshake phase over budget", expect: /(clientHelloToServerHelloDone|serverHelloDoneToClientCertificate|clientCertificateToClientKeyExchange|certificateVerifyToFinished|total) (p50|p95|max) [\d.]+ ms exceeds its budget/ },
    diagnose: "capture: TLS records in many TCP segments of a few dozen bytes",
    apply: (s, v) => void (s.link.fragment = { bytes: v, bitsPerSecond: 9600 }),
  },
  {
    name: "keepalive-lost",
    value: { what: "ms a flow may idle before the NAT drops it", default: 3000 },
    layer: "TCP",
    field: "a NAT or firewall drops the idle flow without a word: the kit's reports and PINGREQs vanish, no PINGRESP ever comes, and v2.2.5 never notices (its Paho keepalive() has no PINGRESP timeout), so the shadow goes stale",
    injectedBy: "recorder",
    console: [],
    red: { spec: "shadow", test: "desired LED", symptom: "the kit's reports stop arriving", expect: /keepalive-lost: the kit kept sending into a silent connection/ },
    diagnose: "capture: after a quiet spell the kit sends records that nothing answers, and nobody closes the connection",
    apply: (s, v) => void (s.link.idleDropMs = v),
  },
  {
    name: "strict-tls",
    layer: "TLS",
    field: "a TLS stack that requires supported_groups refuses the kit's ClientHello",
    injectedBy: "emulator",
    console: [TLS_FAILED],
    red: { spec: "jitr", symptom: "server alert handshake_failure after ClientHello", expect: /strict-tls: server alert handshake_failure right after a ClientHello without supported_groups/ },
    diagnose: "capture: server alert handshake_failure right after a ClientHello without supported_groups",
    apply: (s) => void (s.cloud.tlsStack = "openssl"),
  },
  {
    name: "require-sni",
    layer: "TLS",
    field: "an endpoint that needs SNI refuses the kit (v2.2.5 never sends it)",
    injectedBy: "emulator",
    console: [TLS_FAILED],
    red: { spec: "jitr", symptom: "server alert unrecognized_name after ClientHello", expect: /require-sni: server alert unrecognized_name after a ClientHello without server_name/ },
    diagnose: "capture: server alert unrecognized_name after a ClientHello without server_name",
    apply: (s) => void (s.cloud.requireSni = true),
  },
  {
    name: "untrusted-server-chain",
    layer: "TLS",
    field: "the kit does not trust the server's chain (a new endpoint CA, a proxy's certificate)",
    injectedBy: "twin",
    console: [TLS_FAILED],
    red: { spec: "provisioning", symptom: "kit alert unknown_ca", expect: /untrusted-server-chain: the kit refused the server's chain \(client alert unknown_ca/ },
    diagnose: "capture: kit alert unknown_ca (or bad_certificate) after the server's Certificate",
    apply: (s) => void (s.twin.untrustedServer = true),
  },
  {
    name: "device-cert-expired",
    layer: "TLS",
    field: "the device certificate is past its notAfter by the server's clock",
    injectedBy: "emulator",
    console: [CONNECT_FAILED],
    red: { spec: "jitr", symptom: "server alert certificate_expired", expect: /device-cert-expired: server alert certificate_expired/ },
    diagnose: "capture: server alert certificate_expired after the kit's certificate (OpenSSL's alert for a past notAfter)",
    apply: (s) => void (s.cloud.clockOffsetMs = 1000 * 365.25 * 24 * 3600 * 1000),
  },
  {
    name: "device-cert-not-yet-valid",
    layer: "TLS",
    field: "the device certificate's notBefore is ahead of the server's clock (a kit provisioned by a host with a wrong clock)",
    injectedBy: "emulator",
    console: [CONNECT_FAILED],
    red: { spec: "jitr", symptom: "server alert bad_certificate", expect: /device-cert-not-yet-valid: server alert bad_certificate/ },
    diagnose: "capture: server alert bad_certificate after the kit's certificate (OpenSSL's alert for a future notBefore)",
    apply: (s) => void (s.cloud.clockOffsetMs = -2 * 24 * 3600 * 1000),
  },
  {
    name: "ca-deactivated",
    layer: "JITR",
    field: "the signer CA was set INACTIVE: new kits are neither registered nor admitted",
    injectedBy: "cloud API",
    console: [CONNECT_FAILED],
    red: { spec: "jitr", symptom: "the cloud refused: CA … is INACTIVE", expect: /ca-deactivated \/ .*the cloud refused \d+× CA [0-9a-f]+ is INACTIVE/ },
    diagnose: "capture: server alert certificate_unknown after the kit's Finished, on every attempt; events name the CA",
    apply: (s) => void (s.cloudActions.deactivateSignerCa = true),
  },
  {
    name: "cert-revoked",
    layer: "JITR",
    field: "an operator revoked the device certificate after it was activated",
    injectedBy: "emulator",
    console: [CONNECT_FAILED],
    red: { spec: "jitr", symptom: "the cloud refused: certificate is REVOKED", expect: /cert-revoked \/ .*certificate is REVOKED/ },
    diagnose: "capture: server alert certificate_unknown after a completed handshake, on every attempt; events say REVOKED",
    apply: (s) => void (s.cloud.revokeOnActivate = true),
  },
  {
    name: "jitr-lambda-off",
    layer: "JITR",
    field: "the JITR rule's Lambda never runs (deleted, no permission): certificates stay PENDING_ACTIVATION",
    injectedBy: "emulator",
    console: [CONNECT_FAILED],
    red: { spec: "jitr", symptom: "the JITR Lambda … did not run", expect: /jitr-lambda-off \/ .*the JITR Lambda ZTLambdaJITR did not run \(fault: lambda=off\)/ },
    diagnose: "capture: every attempt completes the handshake and is closed by the server without CONNACK",
    apply: (s) => void (s.cloud.lambda = "off"),
  },
  {
    name: "jitr-lambda-fail",
    layer: "JITR",
    field: "the JITR Lambda throws (a bug, a missing IAM permission)",
    injectedBy: "emulator",
    console: [CONNECT_FAILED],
    red: { spec: "jitr", symptom: "the JITR Lambda … failed", expect: /jitr-lambda-fail \/ .*the JITR Lambda ZTLambdaJITR failed: fault: lambda=fail/ },
    diagnose: "capture: every attempt completes the handshake and is closed by the server without CONNACK",
    apply: (s) => void (s.cloud.lambda = "fail"),
  },
  {
    name: "lambda-delay",
    value: { what: "delay before each Lambda invocation, in ms", default: 8000 },
    layer: "JITR",
    field: "a slow Lambda (cold start, throttling) activates the certificate after the kit's retry",
    injectedBy: "emulator",
    console: [CONNECT_FAILED],
    red: { spec: "jitr", symptom: "more than two connect attempts", expect: /connect attempts before the subscription \(JITR needs two\)/ },
    diagnose: "capture: more than one attempt closed by the server without CONNACK before one connects",
    apply: (s, v) => void (s.cloud.lambdaDelayMs = v),
  },
  {
    name: "policy-deny-connect",
    layer: "policy",
    field: "the policy does not allow iot:Connect for the kit's client ID (client ID ≠ thing name)",
    injectedBy: "emulator",
    console: [CONNECT_FAILED],
    red: { spec: "jitr", symptom: "the cloud refused: iot:Connect not allowed", expect: /policy-deny-connect \/ connect-throttled: the kit's CONNECT was answered by a close/ },
    diagnose: "capture (decrypted): CONNECT, then the server closes without CONNACK, with an ACTIVE certificate",
    apply: (s) => void (s.cloud.policyDeny = [...(s.cloud.policyDeny ?? []), "iot:Connect"]),
  },
  {
    name: "policy-deny-subscribe",
    layer: "policy",
    field: "the policy does not allow the kit's subscription to its shadow delta",
    injectedBy: "emulator",
    console: ["ERROR:    The AWS IoT Demo failed to subscribe to the MQTT update topic subscription."],
    red: { spec: "jitr", symptom: "the cloud refused: iot:Subscribe not allowed", expect: /policy-deny-subscribe: SUBACK refused the kit's subscription \(return code 128\)/ },
    diagnose: "capture (decrypted): SUBACK with return code 128",
    apply: (s) => void (s.cloud.policyDeny = [...(s.cloud.policyDeny ?? []), "iot:Subscribe"]),
  },
  {
    name: "broker-drop-after-connack",
    layer: "MQTT",
    field: "the broker accepts the session and drops it at once (a server-side limit, a deploy)",
    injectedBy: "emulator",
    console: [],
    red: { spec: "jitr", symptom: "the server closed right after CONNACK", expect: /broker-drop-after-connack: the server accepted the session \(CONNACK 0\) and closed it/ },
    diagnose: "capture (decrypted): CONNACK accepted, then the server closes",
    apply: (s) => void (s.cloud.dropAfterConnack = true),
  },
  {
    name: "broker-drop-after-handshake",
    layer: "MQTT",
    field: "the endpoint closes every connection after the TLS handshake, before MQTT",
    injectedBy: "emulator",
    console: [CONNECT_FAILED],
    red: { spec: "jitr", symptom: "the cloud refused: fault: dropAfterHandshake", expect: /broker-drop-after-handshake: the server closed \d+ connection\(s\) right after the handshake/ },
    diagnose: "capture: handshake complete, server closes before any application data",
    apply: (s) => void (s.cloud.dropAfterHandshake = true),
  },
  {
    name: "connect-throttled",
    value: { what: "CONNECTs per second allowed per client ID", default: 0.0001 },
    layer: "MQTT",
    field: "AWS throttles the kit's reconnects (a reconnect storm, a fleet rebooting)",
    injectedBy: "emulator",
    console: [CONNECT_FAILED],
    red: { spec: "jitr", symptom: "the cloud refused: connect rate limit", expect: /connect-throttled \/ policy-deny-connect: the kit's CONNECT was answered by a close/ },
    diagnose: "capture (decrypted): CONNECT closed without CONNACK, repeatedly, with an ACTIVE certificate",
    apply: (s, v) => void (s.cloud.connectRatePerSecond = v),
  },
  {
    name: "duplicate-client-id",
    value: { what: "ms after each subscription until another connection takes the client ID", default: 1000 },
    layer: "MQTT",
    field: "a second device (a cloned identity, a test script) connects with the kit's client ID and takes over",
    injectedBy: "emulator",
    console: ["Attempting to connect to AWS IoT ..."],
    red: { spec: "power-cycle", symptom: "the kit lost its connection and reconnected", expect: /ERROR lines on the console after power cycle \d/ },
    diagnose: "capture: subscribed sessions closed by the server after a while, each followed by a reconnect",
    apply: (s, v) => void (s.cloud.takeoverAfterMs = v),
  },
  {
    name: "slow-atecc",
    value: { what: "factor on every ATECC execution time", default: 3 },
    layer: "ATECC",
    field: "a slow secure element (a marginal part, a cold board)",
    injectedBy: "twin",
    console: [],
    red: { spec: "crypto-latency", symptom: "exceeds its budget", expect: /(sign|genkey|ecdh|verify) (p50|p95|max) [\d.]+ ms exceeds its budget/ },
    diagnose: "bus (zt-hil bus decode, the latency spec): ATECC execution times over the datasheet maxima",
    apply: (s, v) => void (s.twin.ateccSlowFactor = v),
  },
  {
    name: "atecc-crc-errors",
    value: { what: "responses with a broken CRC", default: 1_000_000, integer: true },
    layer: "ATECC",
    field: "noise on the I2C bus: responses fail their CRC",
    injectedBy: "twin",
    console: [ATECC_FAILED],
    red: { spec: "provisioning", symptom: "the kit never answers an ATECC method", expect: /atecc-crc-errors .*the kit never answered \w+, an ATECC508A operation/ },
    diagnose: "kit protocol (in-test): an ATECC method never answered; bus (zt-hil bus decode): responses whose CRC does not match",
    apply: (s, v) => void (s.twin.crcErrors = v),
  },
  {
    name: "atecc-wake-failure",
    value: { what: "wake tokens answered with the self-test failure", default: 1_000_000, integer: true },
    layer: "ATECC",
    field: "the secure element does not wake (a failing part, a brown-out)",
    injectedBy: "twin",
    console: [ATECC_FAILED],
    red: { spec: "provisioning", symptom: "the kit never answers an ATECC method", expect: /atecc-wake-failure .*the kit never answered \w+, an ATECC508A operation/ },
    diagnose: "kit protocol (in-test): an ATECC method never answered; bus (zt-hil bus decode): wake answered 0x07 (self-test failure) instead of 0x11",
    apply: (s, v) => void (s.twin.wakeFailures = v),
  },
  {
    name: "power-cut-during-save",
    layer: "power",
    field: "the kit loses power while it writes its credentials (a pulled cable on the line)",
    injectedBy: "power",
    console: [],
    red: { spec: "provisioning", symptom: "no reply to saveCredentials", expect: /power-cut-during-save: the kit lost power while it handled saveCredentials/ },
    diagnose: "kit protocol (in-test): saveCredentials sent, never answered, and the kit has no power",
    apply: (s) => void (s.twin.powerCutOn = "saveCredentials"),
  },
];

export function faultEntry(name: string): FaultEntry | undefined {
  return FAULTS.find((f) => f.name === name);
}
