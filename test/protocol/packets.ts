import { PktLineReader } from "../../src/git/pktline/index.ts";

const decoder = new TextDecoder();
const SPECIAL: Record<string, string> = { flush: "0000", delim: "0001", "response-end": "0002" };

/** A pkt-line stream as readable strings: payload text, or "0000"/"0001"/"0002". */
export function describePackets(bytes: Uint8Array): string[] {
  const reader = new PktLineReader(bytes);
  const lines: string[] = [];
  while (!reader.atEnd) {
    const packet = reader.next();
    lines.push(packet.kind === "data" ? decoder.decode(packet.payload) : SPECIAL[packet.kind]);
  }
  return lines;
}
