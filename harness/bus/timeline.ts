/**
 * One timeline of a TLS handshake and the ATECC commands behind it: the network messages (from the
 * pcap analysis) above, the chip's commands (from the bus trace) below, on one time axis in ms. Both
 * sources carry wall-clock times (the capture's packet timestamps, the bus capture's start), so the two
 * lanes line up. Hand-written SVG: two lanes of marks need no charting library.
 */
import type { TlsConnectionReport } from "../analysis/analyze-capture.ts";
import type { AteccTransaction } from "./atecc-bus.ts";

export interface TimelineInput {
  /** The connection's messages, and the capture's start (epoch s) their times are relative to. */
  connection: TlsConnectionReport;
  captureStart: number;
  /** Bus transactions and the bus capture's start (epoch ms). */
  transactions: AteccTransaction[];
  busStart: number;
}

export function handshakeTimelineSvg(input: TimelineInput): string {
  const net = input.connection.messages.map((m) => ({ at: (input.captureStart + m.time) * 1000, label: `${m.from === "client" ? "→" : "←"} ${m.type}`, from: m.from }));
  if (!net.length) return "";
  const from = net[0]!.at - 100;
  // Room on the right for the last labels.
  const to = net.at(-1)!.at + Math.max(100, 0.25 * (net.at(-1)!.at - net[0]!.at));
  const chip = input.transactions
    .filter((t) => t.kind === "command")
    .map((t) => ({ at: input.busStart + t.start * 1000, dur: t.execMs ?? 0, label: t.opcode ?? "?", ok: t.status === "ok" || t.status === "verify miscompare" }))
    .filter((c) => c.at + c.dur >= from && c.at <= to);
  const width = 1100;
  const left = 60;
  const x = (ms: number) => left + ((width - left - 20) * (ms - from)) / (to - from);
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const netTop = 40;
  const axisY = netTop + net.length * 14 + 20;
  const chipTop = axisY + 30;
  const height = chipTop + Math.max(1, chip.length) * 12 + 40;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<text x="10" y="18" font-size="14" font-weight="bold">TLS handshake (above) and ATECC508A commands on the I2C bus (below), ms</text>`,
  ];
  net.forEach((m, i) => {
    const y = netTop + i * 14;
    parts.push(`<line x1="${x(m.at)}" x2="${x(m.at)}" y1="${y}" y2="${axisY}" stroke="#bbb"/>`, `<circle cx="${x(m.at)}" cy="${y}" r="3" fill="${m.from === "client" ? "#1f4e9c" : "#9c1f4e"}"/>`, `<text x="${x(m.at) + 5}" y="${y + 4}">${esc(m.label)}</text>`);
  });
  parts.push(`<line x1="${left}" x2="${width - 20}" y1="${axisY}" y2="${axisY}" stroke="#000"/>`);
  const span = to - from;
  const tick = [10, 20, 50, 100, 200, 500, 1000, 2000].find((t) => span / t <= 12) ?? 5000;
  for (let t = 0; t <= span; t += tick) parts.push(`<line x1="${x(from + t)}" x2="${x(from + t)}" y1="${axisY}" y2="${axisY + 5}" stroke="#000"/>`, `<text x="${x(from + t)}" y="${axisY + 17}" text-anchor="middle">${Math.round(t)}</text>`);
  chip.forEach((c, i) => {
    const y = chipTop + i * 12;
    parts.push(`<rect x="${x(c.at)}" y="${y}" width="${Math.max(1.5, x(c.at + c.dur) - x(c.at))}" height="9" fill="${c.ok ? "#4c9f70" : "#e4572e"}"/>`, `<text x="${x(c.at + c.dur) + 4}" y="${y + 8}">${esc(c.label)} ${c.dur} ms</text>`);
  });
  parts.push(`<text x="${left}" y="${height - 10}" fill="#555">dots: TLS messages (blue client, red server); bars: ATECC commands from command written to first ACKed read</text>`, "</svg>");
  return parts.join("\n");
}
