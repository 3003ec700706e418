/**
 * A newline-delimited JSON request/reply client over TCP (the virtual kit's control port speaks it):
 * one request line, one reply line, in order.
 */
import { connect } from "node:net";

export interface JsonLineClient {
  send(req: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): void;
}

export function jsonLineClient(port: number, host = "127.0.0.1"): Promise<JsonLineClient> {
  return new Promise((resolve, reject) => {
    const s = connect(port, host);
    let buf = "";
    const waiting: ((v: Record<string, unknown>) => void)[] = [];
    s.on("data", (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        waiting.shift()?.(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
        buf = buf.slice(i + 1);
      }
    });
    s.once("error", reject);
    s.once("connect", () =>
      resolve({
        send: (req) =>
          new Promise((r) => {
            waiting.push(r);
            s.write(JSON.stringify(req) + "\n");
          }),
        close: () => s.destroy(),
      }),
    );
  });
}
