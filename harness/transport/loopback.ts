/**
 * A free loopback address for a server that must listen on a fixed port. The kit's firmware always
 * connects to port 8883 of whatever its host name resolves to, so each emulator or capture point a
 * virtual kit reaches gets its own 127.x.y.z (Linux routes all of 127.0.0.0/8 to lo) and the lab DNS
 * names it. Addresses are drawn at random and retried while taken, so parallel workers never collide.
 */
import type { Server } from "node:net";

function randomLoopback(): string {
  const r = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));
  return `127.${r(16, 254)}.${r(0, 255)}.${r(1, 254)}`;
}

/** Listen on `port` of a loopback address nobody else uses; resolves with that address. */
export async function listenOnFreeLoopback(server: Server, port: number, tries = 64): Promise<string> {
  let last: Error | null = null;
  for (let i = 0; i < tries; i++) {
    const host = randomLoopback();
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.once("error", onError);
        server.listen(port, host, () => {
          server.off("error", onError);
          resolve();
        });
      });
      return host;
    } catch (err) {
      last = err as Error;
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    }
  }
  throw new Error(`no free loopback address for port ${port} after ${tries} tries: ${last?.message}`);
}
