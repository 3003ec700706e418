/**
 * `zt-hil emulator`: run the IoT Core emulator standalone until interrupted. Prints one line with
 * "ready" and the endpoints once both ports listen, so scripts and containers can wait for it.
 */
import type { Command } from "commander";
import { ZtError } from "../errors.ts";

const port = (v: string, name: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ZtError(name, `"${v}" is not a port number (0 picks a free one)`);
  return n;
};

export function registerEmulatorCommand(program: Command): void {
  program
    .command("emulator")
    .description("run the local AWS IoT Core emulator (control plane, iot-data, MQTT over TLS, JITR)")
    .option("--data-dir <dir>", "state, server CA (server-ca.pem) and key logs; in memory if omitted")
    .option("--host <addr>", "listen address", "127.0.0.1")
    .option("--api-port <n>", "HTTP port for the control plane and iot-data (0: any free port)", "0")
    .option("--mqtt-port <n>", "MQTT over TLS port (0: any free port; kits connect to 8883)", "0")
    .option("--endpoint <name>", "the ATS endpoint name DescribeEndpoint answers (kits are provisioned with it)")
    .option("--tls-stack <stack>", "device-facing TLS: aws (accepts the kit's seed ClientHello) or openssl", "aws")
    .option("--require-sni", "refuse ClientHellos without SNI")
    .option("--lambda <mode>", "JITR Lambda: on, off or fail", "on")
    .option("--lambda-delay <ms>", "delay before each Lambda invocation", "0")
    .option("--jitr-lambda <file>", "the customer's JITR Lambda, run unchanged as ZTLambdaJITR: a Node.js (.js/.mjs/.cjs, exports.handler) or Python (.py, lambda_handler) file")
    .option("--jitr-lambda-timeout <ms>", "its timeout (AWS's default: 3000)", "3000")
    .action(async (o: { dataDir?: string; host: string; apiPort: string; mqttPort: string; endpoint?: string; tlsStack: string; requireSni?: boolean; lambda: string; lambdaDelay: string; jitrLambda?: string; jitrLambdaTimeout: string }) => {
      const { IotCoreEmulator } = await import("../cloud/emulator/emulator.ts");
      const { parseFaults } = await import("../cloud/emulator/faults.ts");
      let faults;
      try {
        faults = parseFaults({ tlsStack: o.tlsStack, requireSni: Boolean(o.requireSni), lambda: o.lambda, lambdaDelayMs: Number(o.lambdaDelay) });
      } catch (err) {
        throw new ZtError("emulator options", (err as Error).message);
      }
      const timeoutMs = Number(o.jitrLambdaTimeout);
      if (!/^\d+$/.test(o.jitrLambdaTimeout) || timeoutMs < 1) throw new ZtError("--jitr-lambda-timeout", `"${o.jitrLambdaTimeout}" is not a positive number of milliseconds`);
      const emu = await IotCoreEmulator.start({
        dataDir: o.dataDir ?? null,
        host: o.host,
        apiPort: port(o.apiPort, "--api-port"),
        mqttPort: port(o.mqttPort, "--mqtt-port"),
        faults,
        ...(o.endpoint ? { endpoint: o.endpoint } : {}),
        ...(o.jitrLambda ? { jitrLambda: { file: o.jitrLambda, timeoutMs } } : {}),
      });
      const stop = async () => {
        await emu.stop();
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      console.log(`zt-hil emulator ready: api ${emu.apiEndpoint} mqtt ${emu.host}:${emu.mqttPort}${o.endpoint ? ` endpoint ${o.endpoint}` : ""} tls-stack ${emu.faults.tlsStack}${o.jitrLambda ? ` jitr-lambda ${o.jitrLambda}` : ""}${emu.dataDir ? ` data ${emu.dataDir}` : " (in memory)"}`);
    });
}
