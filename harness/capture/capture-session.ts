/**
 * The capture seam (after node-serialport's bindings interface): one contract, several bindings.
 * - ToolCapture (live.ts): tcpdump or dumpcap on an interface with a BPF filter, for real rigs.
 * - Recorder (recorder.ts): an in-line TCP proxy that writes a pcap itself, for virtual rigs and for
 *   hosts where packet capture is not permitted.
 *
 * Contract:
 * - start() resolves only once packets are being captured; traffic sent after it resolves is recorded.
 *   It rejects (with the tool's own words) if capturing cannot begin.
 * - stop() flushes and resolves once `file` is a complete capture that the analyzer and tshark read.
 *   Calling stop() twice is harmless. A crash of the capture process before stop() keeps every
 *   packet already written (both bindings write as packets arrive).
 * - A session never deletes its file: it is evidence for the report.
 */
export interface CaptureSession {
  readonly file: string;
  readonly format: "pcap" | "pcapng";
  start(): Promise<void>;
  stop(): Promise<void>;
}
