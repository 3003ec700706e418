/**
 * The in-line recorder (a CaptureSession binding): a TCP proxy from a loopback listen port to the real
 * server that writes every connection through it into a pcap, with synthesized headers and real
 * timestamps. Used where tcpdump cannot sit between the kit and the cloud (virtual rigs, CI without
 * capture rights). The pcap shows the client's real address and the server's real address and port.
 * It doubles as a link shaper for field failures (`shape`): a one-way delay on every chunk, lost
 * transmissions (each costs TCP's retransmission timeout, 200 ms doubling; the kit's lost sends are in
 * the pcap as TCP would send them), tiny segments at a narrowband link's pace, a TCP reset of each connection after so many bytes from the
 * server, and a flow that dies silently once idle (a NAT's timeout) — recorded as what the kit's side
 * of the link saw.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { listenOnFreeLoopback } from "../transport/loopback.ts";
import type { CaptureSession } from "./capture-session.ts";
import { nowSeconds, PcapWriter, plainAddress, SynthesizedFlow } from "./pcap-writer.ts";

export interface RecorderOptions {
  /** Record from the start into this file; without it, call recordTo() when a capture begins. */
  file?: string;
  /** Where connections are forwarded. */
  target: { host: string; port: number };
  /**
   * Listen address (127.0.0.1 by default; "free-loopback": a loopback address of its own, for a fixed
   * port such as the kit's 8883) and port (0: the OS picks).
   */
  listenHost?: string;
  listenPort?: number;
}

/** How the link between kit and cloud misbehaves (harness/faults/catalog.ts: link-latency, link-reset). */
export interface LinkShape {
  /** Added to every chunk in each direction, in ms. */
  latencyMs: number;
  /** Reset each connection (RST both ways) once this many bytes came from the server; null: never. */
  resetAfterServerBytes: number | null;
  /**
   * A flow idle this long dies silently: nothing more passes either way and nobody is told (the kit's
   * later bytes are recorded, as sent; the server's are lost before the capture point); null: never.
   */
  idleDropMs: number | null;
  /** Transmissions lost before each chunk gets through (0: none); each costs an RTO, 200 ms doubling. */
  lossesPerChunk: number;
  /** A tiny-MTU narrowband link: chunks cross in segments of at most `bytes`, each taking its serialization time at `bitsPerSecond` (40 bytes of IP/TCP headers included); null: off. */
  fragment: { bytes: number; bitsPerSecond: number } | null;
}

/** Linux's minimum TCP retransmission timeout. */
const MIN_RTO_MS = 200;

export class Recorder implements CaptureSession {
  /** The link's faults for new chunks and connections; a clean link by default. */
  shape: LinkShape = { latencyMs: 0, resetAfterServerBytes: null, idleDropMs: null, lossesPerChunk: 0, fragment: null };
  file: string;
  readonly format = "pcap" as const;
  private server: Server | null = null;
  private writer: PcapWriter | null = null;
  private sockets = new Set<Socket>();
  /** Connections recorded so far. */
  connections = 0;

  constructor(private readonly opts: RecorderOptions) {
    this.file = opts.file ?? "";
  }

  /** The address clients connect to instead of the target. */
  get address(): { host: string; port: number } {
    const a = this.server?.address();
    if (!a || typeof a === "string") throw new Error("recorder is not listening");
    return { host: a.address, port: a.port };
  }

  /**
   * Start recording new connections into `file` (the previous file, if any, is closed). Connections
   * are written into the file that was open when they began, so each file holds whole connections.
   */
  recordTo(file: string): void {
    this.writer?.close();
    this.file = file;
    this.writer = new PcapWriter(file);
  }

  /** Keep forwarding, stop recording. */
  stopRecording(): void {
    this.writer?.close();
    this.writer = null;
  }

  start(): Promise<void> {
    if (this.server) return Promise.resolve();
    if (this.opts.file) this.recordTo(this.opts.file);
    const server = createServer((downstream) => this.relay(downstream));
    this.server = server;
    if (this.opts.listenHost === "free-loopback") return listenOnFreeLoopback(server, this.opts.listenPort ?? 0).then(() => undefined);
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.listenPort ?? 0, this.opts.listenHost ?? "127.0.0.1", () => resolve());
    });
  }

  private relay(downstream: Socket): void {
    const writer = this.writer;
    this.connections++;
    const upstream = connect(this.opts.target.port, this.opts.target.host);
    this.sockets.add(downstream).add(upstream);
    downstream.pause();
    let flow: SynthesizedFlow | null = null;
    let closed = false;
    const finish = (from: "client" | "server", how: "fin" | "rst") => {
      if (!flow || closed) return;
      if (how === "rst") {
        closed = true;
        flow.reset(from, nowSeconds());
      } else flow.fin(from, nowSeconds());
    };
    upstream.once("connect", () => {
      if (!writer) {
        downstream.resume(); // not recording now: forward only
        return;
      }
      flow = new SynthesizedFlow(
        writer,
        { ip: plainAddress(downstream.remoteAddress ?? "127.0.0.1"), port: downstream.remotePort ?? 0 },
        { ip: plainAddress(upstream.remoteAddress ?? this.opts.target.host), port: upstream.remotePort ?? this.opts.target.port },
      );
      flow.open(nowSeconds());
      downstream.resume();
    });
    // Each direction forwards in order (its FIN last): a chunk leaves latencyMs after it arrived, after
    // its lost transmissions' timeouts; on a clean link, at once.
    const delayed = (from: "client" | "server", send: (d: Buffer | null) => void) => {
      let chain: Promise<void> = Promise.resolve();
      let pending = 0;
      return (d: Buffer | null) => {
        const { latencyMs, lossesPerChunk, fragment } = this.shape;
        if (!pending && !latencyMs && !lossesPerChunk && !fragment) return send(d);
        const arrived = Date.now();
        pending++;
        chain = chain.then(async () => {
          const wait = arrived + latencyMs - Date.now();
          if (wait > 0) await sleep(wait);
          for (let i = 0, rto = MIN_RTO_MS; d && i < lossesPerChunk; i++, rto *= 2) {
            if (from === "client") flow?.lost("client", d, nowSeconds());
            await sleep(rto);
          }
          // A tiny-MTU link carries the chunk in slivers, each after its serialization time.
          const pieces = d && fragment ? Array.from({ length: Math.ceil(d.length / fragment.bytes) }, (_, i) => d.subarray(i * fragment.bytes, (i + 1) * fragment.bytes)) : [d];
          for (const piece of pieces) {
            if (piece && fragment) await sleep(((piece.length + 40) * 8 * 1000) / fragment.bitsPerSecond);
            send(piece);
          }
          pending--;
        });
      };
    };
    let fromServer = 0;
    let lastActivity = Date.now();
    let dead = false;
    const alive = (from: "client" | "server", d: Buffer | null): boolean => {
      const idle = this.shape.idleDropMs;
      if (!dead && idle !== null && Date.now() - lastActivity > idle) dead = true;
      if (dead) {
        if (from === "client" && d) flow?.data("client", d, nowSeconds());
        return false;
      }
      lastActivity = Date.now();
      return true;
    };
    const toServer = delayed("client", (d) => {
      if (closed || upstream.destroyed || !alive("client", d)) return;
      if (!d) {
        finish("client", "fin");
        return void upstream.end();
      }
      flow?.data("client", d, nowSeconds());
      upstream.write(d);
    });
    const toClient = delayed("server", (d) => {
      if (closed || downstream.destroyed || !alive("server", d)) return;
      if (!d) {
        finish("server", "fin");
        return void downstream.end();
      }
      const limit = this.shape.resetAfterServerBytes;
      if (limit !== null && fromServer + d.length > limit) {
        const part = d.subarray(0, Math.max(0, limit - fromServer));
        if (part.length) {
          flow?.data("server", part, nowSeconds());
          downstream.write(part);
        }
        finish("server", "rst");
        downstream.resetAndDestroy();
        upstream.destroy();
        return;
      }
      fromServer += d.length;
      flow?.data("server", d, nowSeconds());
      downstream.write(d);
    });
    downstream.on("data", toServer);
    upstream.on("data", toClient);
    downstream.on("end", () => toServer(null));
    upstream.on("end", () => toClient(null));
    downstream.on("error", () => {
      finish("client", "rst");
      upstream.destroy();
    });
    upstream.on("error", () => {
      finish("server", "rst");
      downstream.destroy();
    });
    downstream.on("close", () => this.sockets.delete(downstream));
    upstream.on("close", () => this.sockets.delete(upstream));
  }

  /** Cut every connection through the recorder (a network fault), and keep listening. */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    this.writer?.close();
    this.writer = null;
  }
}
