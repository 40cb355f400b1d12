import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PktLineReader, pktLineText } from "../../src/git/pktline/index.ts";
import { git, gitText, tempDir } from "../support/git.ts";

/** An upload-pack answer taken apart: negotiation lines, then the pack and side-band text. */
export interface DemuxedResponse {
  /** Text lines before the pack, LF stripped; "0000" for a flush and "0001" for a delim. */
  lines: string[];
  pack: Uint8Array;
  progress: string;
  errors: string;
  /** Whether the side-band stream ended with a flush. */
  flushed: boolean;
}

const decoder = new TextDecoder();

export async function readAll(answer: ReadableStream<Uint8Array> | Uint8Array): Promise<Uint8Array> {
  return answer instanceof Uint8Array ? answer : new Uint8Array(await new Response(answer).arrayBuffer());
}

/**
 * Splits a response. Side-band packets (payload starting with byte 1, 2 or 3) carry the pack;
 * without side-band the pack starts where the bytes stop being pkt-lines ("PACK").
 */
export function demux(bytes: Uint8Array): DemuxedResponse {
  const reader = new PktLineReader(bytes);
  const result: DemuxedResponse = { lines: [], pack: new Uint8Array(0), progress: "", errors: "", flushed: false };
  const packChunks: Uint8Array[] = [];
  let inPack = false;
  while (!reader.atEnd) {
    if (decoder.decode(bytes.subarray(reader.offset, reader.offset + 4)) === "PACK") {
      result.pack = bytes.slice(reader.offset);
      return result;
    }
    const packet = reader.next();
    if (packet.kind !== "data") {
      if (inPack && packet.kind === "flush") result.flushed = true;
      else result.lines.push(packet.kind === "flush" ? "0000" : "0001");
      continue;
    }
    // Text lines start with a printable character, side-band packets with byte 1, 2 or 3.
    const band = packet.payload[0];
    if (band >= 1 && band <= 3) {
      inPack = true;
      const data = packet.payload.subarray(1);
      if (band === 1) packChunks.push(data);
      else if (band === 2) result.progress += decoder.decode(data);
      else result.errors += decoder.decode(data);
      continue;
    }
    result.lines.push(pktLineText(packet.payload));
  }
  result.pack = Buffer.concat(packChunks);
  return result;
}

/**
 * The ids of the objects a pack holds, sorted, by `git index-pack` (which also verifies the
 * pack). A thin pack is completed from `baseRepo`'s objects (borrowed as alternates); the ids
 * then include the bases index-pack appended.
 */
export function packObjectIds(pack: Uint8Array, baseRepo?: string): string[] {
  if (pack.length === 0) return [];
  const scratch = tempDir();
  try {
    git(["init", "-q", "--bare", scratch.path]);
    if (baseRepo) writeFileSync(join(scratch.path, "objects/info/alternates"), `${join(baseRepo, ".git/objects")}\n`);
    const output = gitText(["index-pack", "--stdin", ...(baseRepo ? ["--fix-thin"] : [])], { cwd: scratch.path, input: pack });
    const checksum = output.split(/\s+/).at(-1)!;
    const idx = readFileSync(join(scratch.path, `objects/pack/pack-${checksum}.idx`));
    const listing = gitText(["show-index"], { cwd: scratch.path, input: new Uint8Array(idx) });
    return listing.split("\n").map((line) => line.split(" ")[1]).sort();
  } finally {
    scratch.cleanup();
  }
}
