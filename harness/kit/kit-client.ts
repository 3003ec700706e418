/**
 * The host side of the kit protocol (KIT-FACTS §2), over any ReportLink: request lines out in 64-byte
 * reports padded with 0x04, reply lines back, `XX(HEX)` parsed; the JSON application protocol
 * (`board:app`, ids counting from 0). A wrong reply is a KitProtocolError naming the request; an echo
 * (what firmware v2.2.5 sends for b:v, b:f, b:d and requests it cannot parse) says so.
 */
import { InfrastructureError, ZtError } from "../errors.ts";
import type { ReportLink } from "../transport/report-link.ts";
import { LineAssembler, REPLY, toReports } from "./hid-framing.ts";

export class KitProtocolError extends ZtError {}

export interface KitReply {
  status: number;
  data: Buffer;
  line: string;
}

export interface AppError {
  error_code: number;
  error_msg: string;
}

export class KitAppError extends KitProtocolError {
  constructor(
    readonly method: string,
    readonly appError: AppError,
  ) {
    super(`kit app ${method}`, `error ${appError.error_code}: ${appError.error_msg}`);
  }
}

export class KitClient {
  private lines: string[] = [];
  private waiting: ((line: string | null) => void) | null = null;
  private assembler = new LineAssembler(1 << 20);
  private nextId = 0;
  private queue: Promise<unknown> = Promise.resolve();
  /** Every request and reply, for the report. */
  readonly transcript: { time: number; dir: ">" | "<"; line: string }[] = [];

  constructor(
    readonly link: ReportLink,
    private readonly timeoutMs = 15_000,
  ) {
    link.on("report", (r) => {
      for (const l of this.assembler.push(r)) if (l !== null) this.deliver(l);
    });
    link.on("close", (reason: string) => {
      this.gone = reason;
      this.waiting?.(null);
    });
  }

  /** Why the link closed, when it did: a kit that vanishes mid-run is the rig's failure, not a verdict. */
  private gone: string | null = null;

  private rigGone(request: string): InfrastructureError {
    return new InfrastructureError(this.link.description, `the kit's link closed (${this.gone}) before it answered ${request.slice(0, 60)}: the rig is gone mid-run (unplugged, a hub reset, the twin stopped)`);
  }

  private deliver(line: string): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(line);
    } else this.lines.push(line);
  }

  private nextLine(timeoutMs: number): Promise<string | null> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        resolve(null);
      }, timeoutMs);
      this.waiting = (l) => {
        clearTimeout(timer);
        resolve(l);
      };
    });
  }

  /** Send one request line and read the raw reply line (firmware v2.2.5 answers some requests with an echo). */
  exchange(line: string, timeoutMs = this.timeoutMs): Promise<string> {
    const run = async (): Promise<string> => {
      this.transcript.push({ time: Date.now(), dir: ">", line: line.length > 200 ? `${line.slice(0, 200)}…` : line });
      if (this.gone !== null) throw this.rigGone(line);
      try {
        for (const r of toReports(`${line}\n`, 0x04)) await this.link.write(r);
      } catch (err) {
        // A report the OS cannot hand to the device: the device is gone (the close may not have arrived yet).
        this.gone ??= (err as Error).message.replace(/^.*?: /, "");
        throw this.rigGone(line);
      }
      const reply = await this.nextLine(timeoutMs);
      if (reply === null && this.gone !== null) throw this.rigGone(line);
      if (reply === null) throw new KitProtocolError(this.link.description, `no reply within ${timeoutMs} ms to ${line.slice(0, 60)}`);
      this.transcript.push({ time: Date.now(), dir: "<", line: reply.length > 200 ? `${reply.slice(0, 200)}…` : reply });
      return reply;
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Send one request line and read its reply `XX(HEX)`. */
  async request(line: string, timeoutMs = this.timeoutMs): Promise<KitReply> {
    const reply = await this.exchange(line, timeoutMs);
    if (reply === line) throw new KitProtocolError(this.link.description, `the kit echoed ${line.slice(0, 60)} instead of answering (firmware v2.2.5 echoes b:v, b:f, b:d and any request it cannot parse)`);
    const m = REPLY.exec(reply);
    if (!m) throw new KitProtocolError(this.link.description, `unparseable reply "${reply.slice(0, 80)}" to ${line.slice(0, 60)}`);
    const hex = m[2]!;
    if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new KitProtocolError(this.link.description, `reply data is not hex: "${hex.slice(0, 80)}"`);
    return { status: parseInt(m[1]!, 16), data: Buffer.from(hex, "hex"), line: reply };
  }

  /** A request whose status must be 00. */
  async ok(line: string, timeoutMs?: number): Promise<Buffer> {
    const r = await this.request(line, timeoutMs);
    if (r.status !== 0) throw new KitProtocolError(this.link.description, `${line.slice(0, 40)} answered status ${r.line.slice(0, 2)}`);
    return r.data;
  }

  /** One JSON application call, framed as Microchip's host scripts frame it. */
  async app<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}, timeoutMs?: number): Promise<T> {
    const id = this.nextId++;
    // json.dumps spacing, as mchp_aws_zt_kit.py sends it
    const json = JSON.stringify({ method, params, id }).replace(/":/g, '": ').replace(/,"/g, ', "');
    let data: Buffer;
    try {
      data = await this.ok(`board:app(${Buffer.from(json, "ascii").toString("hex")})`, timeoutMs);
    } catch (err) {
      // Name the method, not its hex: "kit app saveCredentials: no reply within 15000 ms".
      if (err instanceof InfrastructureError && this.gone !== null) throw this.rigGone(`kit app ${method}`);
      if (err instanceof KitProtocolError && /no reply within/.test(err.message)) throw new KitProtocolError(`kit app ${method}`, `no reply within ${timeoutMs ?? this.timeoutMs} ms (${this.link.description})`);
      throw err;
    }
    let reply: { result: T | null; error: AppError | null; id: number };
    try {
      reply = JSON.parse(data.toString("latin1")) as typeof reply;
    } catch {
      throw new KitProtocolError(`kit app ${method}`, `reply is not JSON: ${data.toString("latin1").slice(0, 80)}`);
    }
    if (reply.id !== id) throw new KitProtocolError(`kit app ${method}`, `reply id ${reply.id} does not match request id ${id}`);
    if (reply.error) throw new KitAppError(method, reply.error);
    return reply.result as T;
  }

  close(): Promise<void> {
    return this.link.close();
  }
}
