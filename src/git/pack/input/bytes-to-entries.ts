import type { Codec, InflateResult } from "../../codec/codec.ts";
import { CorruptDataError, LimitExceededError } from "../../errors.ts";
import { objectHeader } from "../../object/object.ts";
import { OID_BYTES, oidToHex, type Oid } from "../../oid.ts";
import { kindToType, PackObjectKind, PACK_HEADER_BYTES, PACK_TRAILER_BYTES, readEntryHeader, readPackHeader } from "../format.ts";
import type { IndexedObjectVisitor, PackLimits } from "../types.ts";

/**
 * The smallest possible entry: a one-byte header and a zlib stream of an empty input
 * (2-byte header, a 2-byte fixed-Huffman end block, 4-byte Adler-32). A header count that
 * cannot fit the pack at this size is rejected before anything is allocated for it.
 */
const MIN_ENTRY_BYTES = 9;

/**
 * Every entry of a pack after the first pass (the "bytes_to_entries" step), as parallel typed
 * arrays indexed by entry number in pack order. Non-delta objects are already hashed; deltas
 * know their base (OFS_DELTA: the base's entry number; REF_DELTA: the base's id).
 */
export interface ScannedPack {
  readonly pack: Uint8Array;
  readonly objectCount: number;
  /** Where the trailing pack checksum starts: the end of the last entry. */
  readonly trailerStart: number;
  readonly packChecksum: Oid;
  readonly offsets: Float64Array;
  /** Where each entry's zlib stream starts. */
  readonly dataStarts: Float64Array;
  readonly kinds: Uint8Array;
  /** Inflated size the entry header declares (of the delta, for deltas). */
  readonly declaredSizes: Float64Array;
  readonly crcs: Uint32Array;
  /** OFS_DELTA: entry number of the base; otherwise -1. */
  readonly ofsBases: Int32Array;
  /** REF_DELTA entry numbers grouped by the id of the base they name, in pack order. */
  readonly refDeltasByBase: Map<Oid, number[]>;
  /** Ids of resolved objects; deltas' are filled in by delta resolution. */
  readonly oids: Oid[];
  /** The same ids as raw bytes, 20 per entry: what sorting and the .idx use. */
  readonly digests: Uint8Array;
  /** Sum of the declared sizes: what this pass inflated. */
  readonly inflatedBytes: number;
}

/** The end of entry `index` in the pack (the start of the next one, or the trailer). */
export function entryEnd(scanned: ScannedPack, index: number): number {
  return index + 1 < scanned.objectCount ? scanned.offsets[index + 1] : scanned.trailerStart;
}

/** Hashes an object, stores its raw id as entry `index` of `digests` and returns the id. */
export function hashEntry(codec: Codec, kind: PackObjectKind, data: Uint8Array, digests: Uint8Array, index: number): Oid {
  const digest = codec.sha1().update(objectHeader(kindToType(kind), data.length)).update(data).digest();
  digests.set(digest, index * OID_BYTES);
  return oidToHex(digest, 0);
}

/** Inflates entry `index`'s data, bounded by and checked against its declared size. */
export function inflateEntry(scanned: ScannedPack, codec: Codec, index: number): Uint8Array {
  return inflateExactly(codec, scanned.pack.subarray(scanned.dataStarts[index], entryEnd(scanned, index)), scanned.declaredSizes[index], scanned.offsets[index]).data;
}

function sizeMismatch(offset: number, actual: string, declared: number): CorruptDataError {
  return new CorruptDataError("pack.object-size", `object at offset ${offset} inflates to ${actual} bytes, its header declares ${declared}`);
}

/** The declared size, already within the limits, bounds the inflation: more output is a lie. */
function inflateExactly(codec: Codec, input: Uint8Array, size: number, offset: number): InflateResult {
  let inflated: InflateResult;
  try {
    inflated = codec.inflate(input, size);
  } catch (error) {
    if (error instanceof LimitExceededError) throw sizeMismatch(offset, `more than ${size}`, size);
    // Name the entry, as git does ("pack has bad object at offset N").
    if (error instanceof CorruptDataError) throw new CorruptDataError(error.code, `object at offset ${offset}: ${error.message}`);
    throw error;
  }
  if (inflated.data.length !== size) throw sizeMismatch(offset, String(inflated.data.length), size);
  return inflated;
}

/**
 * Walks the pack once: header, every entry header, every zlib stream inflated with the declared
 * size as its bound, the CRC-32 of every entry's raw bytes, the id of every non-delta object,
 * and finally the trailing SHA-1 over everything before it. Truncation, trailing bytes, an
 * object count the entries disagree with and sizes beyond `limits` are all refused here.
 * Deltas are inflated again when resolved, as git's index-pack does: keeping them costs more
 * (memory, and the collector's time over them) than inflating twice.
 */
export function bytesToEntries(
  pack: Uint8Array,
  codec: Codec,
  limits: PackLimits,
  onObject?: IndexedObjectVisitor,
): ScannedPack {
  const { objectCount } = readPackHeader(pack);
  const trailerStart = pack.length - PACK_TRAILER_BYTES;
  if (objectCount > limits.maxObjectCount) {
    throw new LimitExceededError("pack.object-count", `pack holds ${objectCount} objects, the limit is ${limits.maxObjectCount}`);
  }
  if (objectCount * MIN_ENTRY_BYTES > trailerStart - PACK_HEADER_BYTES) {
    throw new CorruptDataError("pack.object-count", `pack header claims ${objectCount} objects, more than ${pack.length} bytes can hold`);
  }
  const offsets = new Float64Array(objectCount);
  const dataStarts = new Float64Array(objectCount);
  const kinds = new Uint8Array(objectCount);
  const declaredSizes = new Float64Array(objectCount);
  const crcs = new Uint32Array(objectCount);
  const ofsBases = new Int32Array(objectCount).fill(-1);
  const refDeltasByBase = new Map<Oid, number[]>();
  const oids: Oid[] = new Array<Oid>(objectCount);
  const digests = new Uint8Array(objectCount * OID_BYTES);
  let inflatedBytes = 0;

  let offset = PACK_HEADER_BYTES;
  for (let index = 0; index < objectCount; index++) {
    if (offset >= trailerStart) {
      throw new CorruptDataError("pack.truncated", `pack ends after ${index} of its ${objectCount} objects`);
    }
    const header = readEntryHeader(pack, offset, trailerStart);
    if (header.size > limits.maxObjectSize) {
      throw new LimitExceededError("pack.object-size", `object at offset ${offset} declares ${header.size} bytes, the limit is ${limits.maxObjectSize}`);
    }
    inflatedBytes += header.size;
    if (inflatedBytes > limits.maxInflatedBytes) {
      throw new LimitExceededError("pack.inflated-size", `pack inflates to more than the limit of ${limits.maxInflatedBytes} bytes`);
    }
    const dataStart = offset + header.headerLength;
    const { data, bytesRead } = inflateExactly(codec, pack.subarray(dataStart, trailerStart), header.size, offset);
    const end = dataStart + bytesRead;
    offsets[index] = offset;
    dataStarts[index] = dataStart;
    kinds[index] = header.kind;
    declaredSizes[index] = header.size;
    crcs[index] = codec.crc32(pack.subarray(offset, end));
    if (header.baseOffset !== undefined) {
      ofsBases[index] = entryAt(offsets, index, header.baseOffset);
    } else if (header.baseOidOffset !== undefined) {
      const baseOid = oidToHex(pack, header.baseOidOffset);
      const group = refDeltasByBase.get(baseOid);
      if (group) group.push(index);
      else refDeltasByBase.set(baseOid, [index]);
    } else {
      oids[index] = hashEntry(codec, header.kind, data, digests, index);
      onObject?.(oids[index], kindToType(header.kind), data);
    }
    offset = end;
  }
  if (offset !== trailerStart) {
    throw new CorruptDataError("pack.trailing-bytes", `${trailerStart - offset} unexpected bytes after the last of ${objectCount} objects`);
  }
  const checksum = codec.sha1().update(pack.subarray(0, trailerStart)).digest();
  for (let i = 0; i < OID_BYTES; i++) {
    if (checksum[i] !== pack[trailerStart + i]) throw new CorruptDataError("pack.checksum", "pack trailer checksum mismatch");
  }
  return {
    pack,
    objectCount,
    trailerStart,
    packChecksum: oidToHex(pack, trailerStart),
    offsets,
    dataStarts,
    kinds,
    declaredSizes,
    crcs,
    ofsBases,
    refDeltasByBase,
    oids,
    digests,
    inflatedBytes,
  };
}

/** The entry number starting exactly at `offset` among the first `count` entries. */
function entryAt(offsets: Float64Array, count: number, offset: number): number {
  let low = 0;
  let high = count;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (offsets[middle] < offset) low = middle + 1;
    else high = middle;
  }
  if (low >= count || offsets[low] !== offset) {
    throw new CorruptDataError("pack.delta-offset", `delta base offset ${offset} is not the start of an earlier object`);
  }
  return low;
}
