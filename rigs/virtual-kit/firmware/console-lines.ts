/**
 * The EDBG console lines of firmware v2.2.5 (KIT-FACTS §6), so host code that waits for them (and QA
 * reading a log) sees what the real kit prints. Lines marked (inferred) are worded after the real ones
 * where the exact text was not available.
 */
export const PREFIX = { success: "SUCCESS:  ", error: "ERROR:    ", warning: "WARNING:  " } as const;

export const LINES = {
  banner: "VERSION:  AWS IoT Zero Touch Demo v2.2.5",
  notProvisioned: `${PREFIX.warning}The ATECCx08A device has not been provisioned. Waiting ...`,
  provisioned: `${PREFIX.success}The ATECCx08A device has been successfully provisioned.`,
  attempting: "Attempting to connect to AWS IoT ...",
  ssid: (s: string) => `  SSID:      ${s}`,
  password: (p: string) => `  Password:  ${p}`,
  wifiConnected: "WINC1500 WIFI: Connected to the WIFI access point.",
  ip: (ip: string) => `WINC1500 WIFI: Device IP Address: ${ip}`,
  dns: "WINC1500 WIFI: DNS lookup:",
  dnsHost: (h: string) => `  Host:       ${h}`,
  dnsIp: (ip: string) => `  IP Address: ${ip}`,
  wifiFailed: `${PREFIX.error}WINC1500 WIFI: Failed to connect to the WIFI access point.`, // (inferred)
  dnsFailed: `${PREFIX.error}WINC1500 WIFI: DNS lookup failed.`, // (inferred)
  socketError: (name: string, code: number) => `SOCKET_MSG_CONNECT error ${name}(${code})`,
  connected: `${PREFIX.success}AWS Zero Touch Demo: Connected to AWS IoT.`,
  subscribed: `${PREFIX.success}Subscribed to the MQTT update topic subscription:`,
  subscribedTopic: (t: string) => `${PREFIX.success}${t}`,
  mqttConnectFailed: `${PREFIX.error}The AWS IoT Demo failed to connect with the MQTT connect message.`,
  awsFailed: "WINC1500 WIFI: Failed to connect to AWS Iot.",
  wifiDisconnected: `${PREFIX.success}AWS Zero Touch Demo: Disconnected from WIFI access point.`,
  ateccInitFailed: `${PREFIX.error}The CryptoAuthLib library failed to initialize.`,
} as const;
