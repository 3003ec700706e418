/**
 * ZT_FAULTS: named faults switched on for a run of the default lab, comma-separated:
 *   jitr-lambda-off      the JITR Lambda is never invoked (certificates stay PENDING_ACTIVATION)
 *   lambda-delay=MS      every Lambda invocation waits MS milliseconds (a slow cold start)
 *   strict-tls           the emulator uses the OpenSSL-like TLS stack (refuses the seed ClientHello)
 *   slow-atecc=FACTOR    every ATECC operation of virtual kits takes FACTOR times longer
 *   require-sni          the emulator refuses ClientHellos without SNI
 */
import { ConfigError } from "../errors.ts";
import type { Faults } from "../cloud/emulator/faults.ts";

export interface LabFaults {
  cloud: Partial<Faults>;
  ateccSlowFactor: number;
  names: string[];
}

export function parseLabFaults(text: string | undefined): LabFaults {
  const out: LabFaults = { cloud: {}, ateccSlowFactor: 1, names: [] };
  for (const raw of (text ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const [name, value] = raw.split("=", 2) as [string, string | undefined];
    const number = (what: string) => {
      const n = Number(value);
      if (value === undefined || !Number.isFinite(n) || n <= 0) throw new ConfigError("ZT_FAULTS", `${name} needs a positive ${what} (${name}=N), got "${raw}"`);
      return n;
    };
    switch (name) {
      case "jitr-lambda-off":
        out.cloud.lambda = "off";
        break;
      case "lambda-delay":
        out.cloud.lambdaDelayMs = number("delay in ms");
        break;
      case "strict-tls":
        out.cloud.tlsStack = "openssl";
        break;
      case "require-sni":
        out.cloud.requireSni = true;
        break;
      case "slow-atecc":
        out.ateccSlowFactor = number("factor");
        break;
      default:
        throw new ConfigError("ZT_FAULTS", `unknown fault "${name}" (known: jitr-lambda-off, lambda-delay=MS, strict-tls, require-sni, slow-atecc=FACTOR)`);
    }
    out.names.push(raw);
  }
  return out;
}
