import type { Codec } from "../codec/codec.ts";
import { applyDelta, readDeltaHeader } from "../delta/apply.ts";
import { CorruptDataError, LimitExceededError, MissingObjectError } from "../errors.ts";
import type { ObjectCache } from "../odb/cache.ts";
import type { GitObject, ObjectType } from "../object/object.ts";
import { oidToHex, type Oid } from "../oid.ts";
import { kindToType, PACK_HEADER_BYTES, PACK_TRAILER_BYTES, PackObjectKind, readEntryHeader, readPackHeader, type EntryHeader } from "./format.ts";
import { DEFAULT_PACK_LIMITS, type PackIndex, type PackLimits, type StoredEntry } from "./types.ts";

/** An object's type and inflated size, learned without rebuilding the object when possible. */
export interface ObjectInfo {
  type: ObjectType;
  size: number;
}

/** The entries from an object down to the first one that is whole or already cached. */
interface DeltaChain {
  /** Offsets and headers of the delta entries, the requested object first. */
  offsets: number[];
  headers: EntryHeader[];
  /** Where the chain ends: a whole object, or a cached one (then `cached` is set). */
  baseOffset: number;
  baseHeader: EntryHeader | undefined;
  cached: GitObject | undefined;
}

/** Offsets in pack order, with the index position of each: git's reverse index (.rev). */
interface ReverseIndex {
  offsets: Float64Array;
  positions: Uint32Array;
}

function isDelta(kind: PackObjectKind): boolean {
  return kind === PackObjectKind.OfsDelta || kind === PackObjectKind.RefDelta;
}

/**
 * Random access to the objects of one pack through its index (gitformat-pack). Delta chains
 * are resolved iteratively, bounded by `limits.maxDeltaDepth`; every offset, size and base is
 * checked before it is used, and bad data ends in a CorruptDataError, LimitExceededError or
 * MissingObjectError. Objects returned may be shared through the cache: do not modify them.
 */
export class PackFile {
  readonly objectCount: number;
  /** The pack's trailing checksum, as hex: its name. */
  readonly checksum: Oid;
  /** Where the entries end and the trailer begins. */
  private readonly entriesEnd: number;
  private reverse: ReverseIndex | undefined;
  private deltas: number | undefined;

  constructor(
    private readonly bytes: Uint8Array,
    readonly index: PackIndex,
    private readonly codec: Codec,
    private readonly cache?: ObjectCache,
    private readonly limits: PackLimits = DEFAULT_PACK_LIMITS,
  ) {
    const header = readPackHeader(bytes);
    if (header.objectCount !== index.objectCount) {
      throw new CorruptDataError("pack.index-mismatch", `pack holds ${header.objectCount} objects, its index ${index.objectCount}`);
    }
    this.entriesEnd = bytes.length - PACK_TRAILER_BYTES;
    this.checksum = oidToHex(bytes, this.entriesEnd);
    if (this.checksum !== index.packChecksum) {
      throw new CorruptDataError("pack.index-mismatch", `pack ${this.checksum} does not match its index (made for ${index.packChecksum})`);
    }
    this.objectCount = header.objectCount;
  }

  has(oid: Oid): boolean {
    return this.index.findPosition(oid) >= 0;
  }

  /** The offset of `oid`'s entry, or undefined when the pack does not hold it. */
  offsetOf(oid: Oid): number | undefined {
    const position = this.index.findPosition(oid);
    return position < 0 ? undefined : this.index.offsetAt(position);
  }

  *oids(): Iterable<Oid> {
    for (let position = 0; position < this.objectCount; position++) yield this.index.oidAt(position);
  }

  /** Index positions in pack order (by offset): bases before their OFS deltas. Do not modify. */
  positionsInPackOrder(): Uint32Array {
    return this.reverseIndex().positions;
  }

  /** The whole pack file: header, entries, trailer. */
  get fileBytes(): Uint8Array {
    return this.bytes;
  }

  /** The entries' bytes between the header and the trailer: OFS_DELTA distances stay valid wherever they are copied whole. */
  get body(): Uint8Array {
    return this.bytes.subarray(PACK_HEADER_BYTES, this.entriesEnd);
  }

  /** The entry at `offset`, header and compressed data, as stored (nothing is inflated or checked beyond its header). */
  entryAt(offset: number): { header: EntryHeader; bytes: Uint8Array } {
    return { header: this.entryHeader(offset), bytes: this.bytes.subarray(offset, this.entryEnd(offset)) };
  }

  /** The index position of the entry starting at `offset`. */
  positionAt(offset: number): number {
    return this.reverseIndex().positions[this.offsetRank(offset)];
  }

  /** How many entries are OFS or REF deltas (read from the entry headers once). */
  deltaCount(): number {
    if (this.deltas === undefined) {
      this.deltas = 0;
      for (const offset of this.reverseIndex().offsets) if (isDelta(this.entryHeader(offset).kind)) this.deltas++;
    }
    return this.deltas;
  }

  read(oid: Oid): GitObject | undefined {
    const offset = this.offsetOf(oid);
    return offset === undefined ? undefined : this.readAt(offset);
  }

  /** The object whose entry starts at `offset`, with its delta chain applied. */
  readAt(offset: number): GitObject {
    const chain = this.chainAt(offset);
    let object = chain.cached;
    if (!object) {
      const header = chain.baseHeader as EntryHeader;
      object = { type: kindToType(header.kind), data: this.inflateEntry(chain.baseOffset, header) };
      this.cache?.set(this, chain.baseOffset, object);
    }
    for (let i = chain.offsets.length - 1; i >= 0; i--) {
      const delta = this.inflateEntry(chain.offsets[i], chain.headers[i]);
      object = { type: object.type, data: applyDelta(object.data, delta, this.limits.maxObjectSize) };
      this.cache?.set(this, chain.offsets[i], object);
    }
    return object;
  }

  info(oid: Oid): ObjectInfo | undefined {
    const offset = this.offsetOf(oid);
    return offset === undefined ? undefined : this.infoAt(offset);
  }

  /**
   * Type and size without applying deltas: the size is in the entry header, or for a delta in
   * the delta's own header; the type is that of the chain's whole object (git's packed_object_info).
   */
  infoAt(offset: number): ObjectInfo {
    const cached = this.cache?.get(this, offset);
    if (cached) return { type: cached.type, size: cached.data.length };
    const header = this.entryHeader(offset);
    if (!isDelta(header.kind)) return { type: kindToType(header.kind), size: header.size };
    return { type: this.typeAt(offset), size: readDeltaHeader(this.inflateEntry(offset, header)).resultSize };
  }

  type(oid: Oid): ObjectType | undefined {
    const offset = this.offsetOf(oid);
    return offset === undefined ? undefined : this.typeAt(offset);
  }

  /** The type of the object at `offset`: that of the whole (or cached) object its chain ends in. */
  typeAt(offset: number): ObjectType {
    const chain = this.chainAt(offset);
    return chain.cached ? chain.cached.type : kindToType((chain.baseHeader as EntryHeader).kind);
  }

  /**
   * The entry as stored, for verbatim reuse by a pack writer. Its extent comes from the next
   * entry's offset, and its CRC-32 is checked against the index before it is handed out.
   */
  stored(oid: Oid): StoredEntry | undefined {
    const position = this.index.findPosition(oid);
    if (position < 0) return undefined;
    const offset = this.index.offsetAt(position);
    const header = this.entryHeader(offset);
    this.checkSize(offset, header);
    const end = this.entryEnd(offset);
    const dataStart = offset + header.headerLength;
    if (dataStart >= end) throw new CorruptDataError("pack.truncated", `entry at ${offset} has no data`);
    if (this.codec.crc32(this.bytes.subarray(offset, end)) !== this.index.crc32At(position)) {
      throw new CorruptDataError("pack.crc", `entry of ${oid} at ${offset} does not match its CRC-32 in the index`);
    }
    const entry: StoredEntry = { kind: header.kind, size: header.size, compressed: this.bytes.subarray(dataStart, end), pack: this };
    if (header.baseOffset !== undefined) entry.baseOid = this.oidAtOffset(header.baseOffset);
    if (header.baseOidOffset !== undefined) entry.baseOid = oidToHex(this.bytes, header.baseOidOffset);
    return entry;
  }

  /** Follows deltas from `offset` to a whole or cached object, reading headers only. */
  private chainAt(offset: number): DeltaChain {
    const chain: DeltaChain = { offsets: [], headers: [], baseOffset: offset, baseHeader: undefined, cached: undefined };
    let cursor = offset;
    for (;;) {
      chain.baseOffset = cursor;
      chain.cached = this.cache?.get(this, cursor);
      if (chain.cached) return chain;
      const header = this.entryHeader(cursor);
      if (!isDelta(header.kind)) {
        chain.baseHeader = header;
        return chain;
      }
      if (chain.offsets.length >= this.limits.maxDeltaDepth) {
        throw new LimitExceededError("pack.delta-depth", `delta chain of the object at ${offset} is longer than ${this.limits.maxDeltaDepth}`);
      }
      chain.offsets.push(cursor);
      chain.headers.push(header);
      cursor = this.baseOffset(cursor, header);
    }
  }

  private baseOffset(offset: number, header: EntryHeader): number {
    if (header.baseOffset !== undefined) return header.baseOffset;
    const baseOid = oidToHex(this.bytes, header.baseOidOffset as number);
    const base = this.offsetOf(baseOid);
    // Stored packs are self-contained: a base outside this pack is a broken pack.
    if (base === undefined) throw new MissingObjectError(baseOid, `delta base ${baseOid} of the object at ${offset} is not in the pack`);
    return base;
  }

  private entryHeader(offset: number): EntryHeader {
    if (!Number.isInteger(offset) || offset < PACK_HEADER_BYTES || offset >= this.entriesEnd) {
      throw new CorruptDataError("pack.offset", `object offset ${offset} is outside the pack's entries`);
    }
    return readEntryHeader(this.bytes, offset, this.entriesEnd);
  }

  private checkSize(offset: number, header: EntryHeader): void {
    if (header.size > this.limits.maxObjectSize) {
      throw new LimitExceededError("pack.object-size", `entry at ${offset} of ${header.size} bytes exceeds the limit of ${this.limits.maxObjectSize}`);
    }
  }

  private inflateEntry(offset: number, header: EntryHeader): Uint8Array {
    this.checkSize(offset, header);
    const sizeMismatch = () =>
      new CorruptDataError("pack.size-mismatch", `entry at ${offset} inflates to a size other than its declared ${header.size} bytes`);
    let data: Uint8Array;
    try {
      data = this.codec.inflate(this.bytes.subarray(offset + header.headerLength, this.entriesEnd), header.size).data;
    } catch (error) {
      // More data than the header declares is a corrupt entry, not a limit the caller set.
      throw error instanceof LimitExceededError ? sizeMismatch() : error;
    }
    if (data.length !== header.size) throw sizeMismatch();
    return data;
  }

  /** The offset of the entry after the one at `offset` (or the trailer): the entry's extent. */
  private entryEnd(offset: number): number {
    const { offsets } = this.reverseIndex();
    const at = this.offsetRank(offset);
    return at + 1 < offsets.length ? offsets[at + 1] : this.entriesEnd;
  }

  private oidAtOffset(offset: number): Oid {
    return this.index.oidAt(this.positionAt(offset));
  }

  /** The rank of `offset` among entry offsets; throws when no entry starts there. */
  private offsetRank(offset: number): number {
    const { offsets } = this.reverseIndex();
    let low = 0;
    let high = offsets.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (offsets[middle] < offset) low = middle + 1;
      else high = middle;
    }
    if (offsets[low] !== offset) throw new CorruptDataError("pack.offset", `no object of the index starts at pack offset ${offset}`);
    return low;
  }

  private reverseIndex(): ReverseIndex {
    if (this.reverse) return this.reverse;
    const byPosition = new Float64Array(this.objectCount);
    for (let position = 0; position < this.objectCount; position++) byPosition[position] = this.index.offsetAt(position);
    const positions = new Uint32Array(this.objectCount);
    for (let position = 0; position < this.objectCount; position++) positions[position] = position;
    positions.sort((a, b) => byPosition[a] - byPosition[b]);
    const offsets = new Float64Array(this.objectCount);
    for (let rank = 0; rank < this.objectCount; rank++) {
      offsets[rank] = byPosition[positions[rank]];
      const previous = rank === 0 ? PACK_HEADER_BYTES - 1 : offsets[rank - 1];
      if (offsets[rank] <= previous || offsets[rank] >= this.entriesEnd) {
        throw new CorruptDataError("pack.index-offsets", `index offset ${offsets[rank]} is duplicated or outside the pack`);
      }
    }
    this.reverse = { offsets, positions };
    return this.reverse;
  }
}
