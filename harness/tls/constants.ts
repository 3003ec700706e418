/** TLS registry values the harness names in verdicts and reports (IANA TLS parameters). */

export const ContentType = { changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23, heartbeat: 24 } as const;

export const HandshakeType = {
  helloRequest: 0,
  clientHello: 1,
  serverHello: 2,
  newSessionTicket: 4,
  encryptedExtensions: 8,
  certificate: 11,
  serverKeyExchange: 12,
  certificateRequest: 13,
  serverHelloDone: 14,
  certificateVerify: 15,
  clientKeyExchange: 16,
  finished: 20,
} as const;

export const HANDSHAKE_NAMES: Record<number, string> = {
  0: "HelloRequest",
  1: "ClientHello",
  2: "ServerHello",
  4: "NewSessionTicket",
  8: "EncryptedExtensions",
  11: "Certificate",
  12: "ServerKeyExchange",
  13: "CertificateRequest",
  14: "ServerHelloDone",
  15: "CertificateVerify",
  16: "ClientKeyExchange",
  20: "Finished",
};

/** The kit's one suite. */
export const TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xc02b;
export const TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 = 0xc023;

export const CIPHER_SUITE_NAMES: Record<number, string> = {
  0x00ff: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
  0x5600: "TLS_FALLBACK_SCSV",
  0x1301: "TLS_AES_128_GCM_SHA256",
  0x1302: "TLS_AES_256_GCM_SHA384",
  0x1303: "TLS_CHACHA20_POLY1305_SHA256",
  0xc02b: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  0xc02c: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
  0xc02f: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
  0xc030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
  0xcca9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
  0xcca8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
  0xc023: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
  0xc009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
  0xc013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
  0x009c: "TLS_RSA_WITH_AES_128_GCM_SHA256",
  0x002f: "TLS_RSA_WITH_AES_128_CBC_SHA",
};

export function suiteName(suite: number): string {
  return CIPHER_SUITE_NAMES[suite] ?? `0x${suite.toString(16).padStart(4, "0")}`;
}

export const ExtensionType = {
  serverName: 0,
  supportedGroups: 10,
  ecPointFormats: 11,
  signatureAlgorithms: 13,
  alpn: 16,
  encryptThenMac: 22,
  extendedMasterSecret: 23,
  sessionTicket: 35,
  supportedVersions: 43,
  keyShare: 51,
  renegotiationInfo: 0xff01,
} as const;

export const EXTENSION_NAMES: Record<number, string> = {
  0: "server_name",
  5: "status_request",
  10: "supported_groups",
  11: "ec_point_formats",
  13: "signature_algorithms",
  16: "application_layer_protocol_negotiation",
  18: "signed_certificate_timestamp",
  21: "padding",
  22: "encrypt_then_mac",
  23: "extended_master_secret",
  35: "session_ticket",
  43: "supported_versions",
  45: "psk_key_exchange_modes",
  49: "post_handshake_auth",
  51: "key_share",
  0xff01: "renegotiation_info",
};

export const NamedGroup = { secp256r1: 23, secp384r1: 24, x25519: 29 } as const;

export const GROUP_NAMES: Record<number, string> = { 23: "secp256r1", 24: "secp384r1", 25: "secp521r1", 29: "x25519", 30: "x448" };

export const SignatureScheme = { ecdsaSecp256r1Sha256: 0x0403, rsaPkcs1Sha256: 0x0401, rsaPssRsaeSha256: 0x0804 } as const;

export const ALERT_DESCRIPTIONS: Record<number, string> = {
  0: "close_notify",
  10: "unexpected_message",
  20: "bad_record_mac",
  22: "record_overflow",
  40: "handshake_failure",
  42: "bad_certificate",
  43: "unsupported_certificate",
  44: "certificate_revoked",
  45: "certificate_expired",
  46: "certificate_unknown",
  47: "illegal_parameter",
  48: "unknown_ca",
  49: "access_denied",
  50: "decode_error",
  51: "decrypt_error",
  70: "protocol_version",
  71: "insufficient_security",
  80: "internal_error",
  86: "inappropriate_fallback",
  90: "user_canceled",
  100: "no_renegotiation",
  109: "missing_extension",
  110: "unsupported_extension",
  112: "unrecognized_name",
  116: "certificate_required",
  120: "no_application_protocol",
};

export function alertName(code: number): string {
  return ALERT_DESCRIPTIONS[code] ?? `alert_${code}`;
}

export const TLS12 = 0x0303;
export const TLS13 = 0x0304;

export function versionName(v: number): string {
  return ({ 0x0300: "SSL3.0", 0x0301: "TLS1.0", 0x0302: "TLS1.1", 0x0303: "TLS1.2", 0x0304: "TLS1.3" } as Record<number, string>)[v] ?? `0x${v.toString(16)}`;
}
