/** A captured link-layer frame, whichever file format or backend it came from. */
export interface CapturedPacket {
  /** Capture time in seconds since the epoch (sub-microsecond digits may be rounded). */
  time: number;
  /** LINKTYPE_* of the interface the packet was captured on. */
  linkType: number;
  interfaceId: number;
  data: Buffer;
  /** Byte offset of the packet's record in its file, for error messages. */
  fileOffset: number;
}

export interface CaptureFile {
  format: "pcap" | "pcapng";
  packets: CapturedPacket[];
  /** NSS key log lines embedded in the file (pcapng Decryption Secrets Blocks). */
  keyLog: string[];
  /** What could not be read (a truncated tail, an unknown block); everything before it is kept. */
  problems: string[];
}

export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;
