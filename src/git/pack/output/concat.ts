/**
 * A pack of every object of some stored packs, each once, made of their entries as stored: no
 * object is read, inflated or searched for deltas (what git's pack reuse does with bitmaps).
 * A pack whose objects are all new to the output is copied whole: its OFS_DELTA distances stay
 * valid wherever its body lands. A pack holding objects already written is copied entry by
 * entry, without those objects, each OFS_DELTA distance recomputed for where its base landed.
 * REF_DELTA entries name their base by id, which the output holds somewhere.
 */
import type { Codec } from "../../codec/codec.ts";
import { concatBytes } from "../../bytes.ts";
import { encodeEntryHeader, PACK_HEADER_BYTES, PackObjectKind, writePackHeader } from "../format.ts";
import type { PackFile } from "../packfile.ts";

/** Output chunks are about this size: large bodies are sliced, small entries gathered. */
const CHUNK_BYTES = 1024 * 1024;

/** One source pack's place in the output. */
interface Part {
  pack: PackFile;
  /** 1 at the positions of objects an earlier part writes; undefined when there are none. */
  skipped: Uint8Array | undefined;
  /** Where the pack's body starts in the output (copied whole). */
  start: number;
  /** Where each entry landed, by index position (copied entry by entry). */
  offsets: Float64Array | undefined;
}

export interface ConcatenatedPack {
  objectCount: number;
  deltaCount: number;
  /** The pack's bytes, header to trailer, in chunks of about a megabyte. */
  chunks(): Generator<Uint8Array>;
}

/**
 * Plans the pack of every object of `packs`: the largest is written first (copied whole), each
 * other one after it, without the objects already written. Every pack must be self-contained
 * (REF_DELTA bases in the same pack), as stored packs are.
 */
export function concatPacks(packs: readonly PackFile[], codec: Codec): ConcatenatedPack {
  const parts: Part[] = [];
  let objectCount = 0;
  let deltaCount = 0;
  for (const pack of [...packs].sort((a, b) => b.objectCount - a.objectCount)) {
    const skipped = objectsWrittenBefore(pack, parts);
    const kept = skipped ? skipped.reduce((count, flag) => count + (flag ? 0 : 1), 0) : pack.objectCount;
    if (kept === 0) continue;
    parts.push({ pack, skipped, start: -1, offsets: undefined });
    objectCount += kept;
    deltaCount += skipped ? keptDeltas(pack, skipped) : pack.deltaCount();
  }
  return { objectCount, deltaCount, chunks: () => writeParts(parts, objectCount, codec) };
}

function keptDeltas(pack: PackFile, skipped: Uint8Array): number {
  let deltas = 0;
  for (let position = 0; position < pack.objectCount; position++) {
    if (skipped[position]) continue;
    const { kind } = pack.entryAt(pack.index.offsetAt(position)).header;
    if (kind === PackObjectKind.OfsDelta || kind === PackObjectKind.RefDelta) deltas++;
  }
  return deltas;
}

function objectsWrittenBefore(pack: PackFile, parts: readonly Part[]): Uint8Array | undefined {
  if (parts.length === 0) return undefined;
  let skipped: Uint8Array | undefined;
  for (let position = 0; position < pack.objectCount; position++) {
    const oid = pack.index.oidAt(position);
    if (!parts.some((part) => part.pack.has(oid))) continue;
    skipped ??= new Uint8Array(pack.objectCount);
    skipped[position] = 1;
  }
  return skipped;
}

function* writeParts(parts: Part[], objectCount: number, codec: Codec): Generator<Uint8Array> {
  if (parts.length === 1 && !parts[0].skipped) {
    // The one pack is the answer as it is, its own trailer included.
    yield* slices(parts[0].pack.fileBytes);
    return;
  }
  const hasher = codec.sha1();
  let written = 0;
  const emit = (chunk: Uint8Array) => {
    hasher.update(chunk);
    written += chunk.length;
    return chunk;
  };
  yield emit(writePackHeader(objectCount));
  for (const [index, part] of parts.entries()) {
    if (!part.skipped) {
      part.start = written;
      for (const slice of slices(part.pack.body)) yield emit(slice);
      continue;
    }
    for (const chunk of entriesOf(part, parts.slice(0, index), () => written)) yield emit(chunk);
  }
  yield hasher.digest();
}

/** The kept entries of a part, OFS_DELTA headers rewritten, gathered into chunks. */
function* entriesOf(part: Part, earlier: readonly Part[], written: () => number): Generator<Uint8Array> {
  const { pack, skipped } = part;
  const offsets = new Float64Array(pack.objectCount).fill(-1);
  part.offsets = offsets;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for (const position of pack.positionsInPackOrder()) {
    if (skipped?.[position]) continue;
    const at = written() + pendingBytes;
    offsets[position] = at;
    const { header, bytes } = pack.entryAt(pack.index.offsetAt(position));
    let entry = [bytes];
    if (header.kind === PackObjectKind.OfsDelta) {
      const base = outputOffset(part, pack.positionAt(header.baseOffset as number), earlier);
      entry = [encodeEntryHeader(PackObjectKind.OfsDelta, header.size, at - base), bytes.subarray(header.headerLength)];
    }
    for (const piece of entry) {
      pending.push(piece);
      pendingBytes += piece.length;
    }
    if (pendingBytes >= CHUNK_BYTES) {
      yield concatBytes(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
    }
  }
  if (pendingBytes > 0) yield concatBytes(pending, pendingBytes);
}

/** Where the object at `position` of `part`'s pack landed: in this part, or in the earlier part that wrote it. */
function outputOffset(part: Part, position: number, earlier: readonly Part[]): number {
  if (!part.skipped?.[position]) return (part.offsets as Float64Array)[position];
  const oid = part.pack.index.oidAt(position);
  for (const other of earlier) {
    const found = other.pack.index.findPosition(oid);
    if (found < 0 || other.skipped?.[found]) continue;
    if (!other.skipped) return other.start + other.pack.index.offsetAt(found) - PACK_HEADER_BYTES;
    return (other.offsets as Float64Array)[found];
  }
  throw new RangeError(`object ${oid} is skipped but no earlier pack wrote it`);
}

function* slices(bytes: Uint8Array): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) yield bytes.subarray(offset, offset + CHUNK_BYTES);
}
