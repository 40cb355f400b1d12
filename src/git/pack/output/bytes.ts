import type { Codec, Sha1Hasher } from "../../codec/codec.ts";
import { OID_BYTES, oidToHex, writeOid, type Oid } from "../../oid.ts";
import { encodeEntryHeader, PackObjectKind, typeToKind, writePackHeader } from "../format.ts";
import type { PackEntry } from "./entry.ts";
import type { ResolvedPackOptions } from "./options.ts";
import { readRequiredObject, type PackSource } from "./source.ts";

/** What a .idx records about one written object. */
export interface WrittenEntry {
  oid: Oid;
  offset: number;
  crc32: number;
}

export interface PackWriteStats {
  objectCount: number;
  /** Stored deltas copied verbatim. */
  reusedDeltas: number;
  /** Deltas the search found. */
  freshDeltas: number;
  /** Whole objects whose stored compressed bytes were copied verbatim. */
  reusedObjects: number;
  /** Deltas against a base the receiver has (thin pack), written as REF_DELTA. */
  thinDeltas: number;
}

export interface PackWriteResult extends PackWriteStats {
  /** The pack's trailing SHA-1, which also names it (pack-{checksum}.pack). */
  checksum: Oid;
  byteLength: number;
  /** With `indexEntries`: every object's offset and CRC-32, in write order. */
  entries?: WrittenEntry[];
}

/** Chunks handed out are about one side-band-64k packet's payload (gitprotocol-pack, 65515 bytes). */
const CHUNK_BYTES = 65515;
/** Pieces at least this large are passed on as they are rather than copied into a chunk. */
const PASS_THROUGH_BYTES = CHUNK_BYTES / 4;

/** Gathers the pack's bytes into chunks, hashing what it hands out for the trailer. */
class ChunkWriter {
  private buffer = new Uint8Array(CHUNK_BYTES);
  private used = 0;
  private readonly hasher: Sha1Hasher;
  /** Bytes written so far: the offset of the next entry. */
  offset = 0;
  readonly ready: Uint8Array[] = [];

  constructor(codec: Codec) {
    this.hasher = codec.sha1();
  }

  write(bytes: Uint8Array): void {
    this.offset += bytes.length;
    if (this.used + bytes.length <= CHUNK_BYTES) {
      this.buffer.set(bytes, this.used);
      this.used += bytes.length;
      return;
    }
    this.flush();
    if (bytes.length >= PASS_THROUGH_BYTES) {
      this.hand(bytes);
    } else {
      this.buffer.set(bytes);
      this.used = bytes.length;
    }
  }

  /** Appends the trailer: the SHA-1 of everything before it (gitformat-pack). */
  finish(): Oid {
    this.flush();
    const digest = this.hasher.digest();
    this.ready.push(digest);
    this.offset += digest.length;
    return oidToHex(digest);
  }

  private flush(): void {
    if (this.used === 0) return;
    this.hand(this.buffer.subarray(0, this.used));
    this.buffer = new Uint8Array(CHUNK_BYTES);
    this.used = 0;
  }

  private hand(bytes: Uint8Array): void {
    this.hasher.update(bytes);
    this.ready.push(bytes);
  }
}

/**
 * Input order (recency, as the counting walk produced it), except that a delta's base goes
 * right before it when not written yet: every OFS_DELTA then points backwards, as it must.
 */
function* writeOrder(entries: PackEntry[]): Generator<PackEntry> {
  const pending: PackEntry[] = [];
  const written = new Set<PackEntry>();
  for (const entry of entries) {
    for (let next: PackEntry | undefined = entry; next && !next.thinBase && !written.has(next); next = next.base) {
      written.add(next);
      pending.push(next);
    }
    while (pending.length > 0) yield pending.pop()!;
  }
}

/**
 * The bytes step: the header, every entry (stored bytes copied where the entry step chose
 * reuse, otherwise deflated now), and the SHA-1 trailer, as chunks of about 64 KiB.
 */
export function* writeEntries(
  entries: PackEntry[],
  source: PackSource,
  options: ResolvedPackOptions,
): Generator<Uint8Array, PackWriteResult> {
  const { codec } = options;
  const out = new ChunkWriter(codec);
  const stats: PackWriteStats = { objectCount: entries.length, reusedDeltas: 0, freshDeltas: 0, reusedObjects: 0, thinDeltas: 0 };
  const indexEntries: WrittenEntry[] | undefined = options.indexEntries ? [] : undefined;
  out.write(writePackHeader(entries.length));
  let done = 0;
  for (const entry of writeOrder(entries)) {
    entry.offset = out.offset;
    const [header, body] = encodeEntry(entry, source, options, stats);
    out.write(header);
    out.write(body);
    indexEntries?.push({ oid: entry.oid, offset: entry.offset, crc32: codec.crc32(body, codec.crc32(header)) });
    options.onProgress("writing", ++done, entries.length);
    yield* out.ready.splice(0);
  }
  const checksum = out.finish();
  yield* out.ready.splice(0);
  return { ...stats, checksum, byteLength: out.offset, entries: indexEntries };
}

/** An entry's header (type, size, base reference) and its compressed data. */
function encodeEntry(entry: PackEntry, source: PackSource, options: ResolvedPackOptions, stats: PackWriteStats): [Uint8Array, Uint8Array] {
  const { base, stored } = entry;
  if (base) {
    const body = entry.reusedDelta ? stored!.compressed : entry.compressedDelta!;
    if (entry.reusedDelta) stats.reusedDeltas++;
    else stats.freshDeltas++;
    if (base.thinBase) stats.thinDeltas++;
    if (options.ofsDelta && !base.thinBase) {
      return [encodeEntryHeader(PackObjectKind.OfsDelta, entry.deltaSize, entry.offset - base.offset), body];
    }
    const kindAndSize = encodeEntryHeader(PackObjectKind.RefDelta, entry.deltaSize);
    const header = new Uint8Array(kindAndSize.length + OID_BYTES);
    header.set(kindAndSize);
    writeOid(header, kindAndSize.length, base.oid);
    return [header, body];
  }
  const kind = typeToKind(entry.type);
  if (options.reuseObjects && stored && stored.kind === kind) {
    stats.reusedObjects++;
    return [encodeEntryHeader(kind, stored.size), stored.compressed];
  }
  const { data } = readRequiredObject(source, entry.oid, entry.type);
  return [encodeEntryHeader(kind, data.length), options.codec.deflate(data, options.compressionLevel)];
}
