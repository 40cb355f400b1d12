import type { Codec } from "../codec/codec.ts";
import { CorruptDataError } from "../errors.ts";
import { OidTable } from "../oid-table.ts";
import { OID_BYTES, oidToHex, type Oid } from "../oid.ts";
import { PACK_HEADER_BYTES } from "../pack/format.ts";
import type { PackIndex } from "../pack/types.ts";
import {
  FANOUT_ENTRIES,
  IDX_BYTES_PER_OBJECT,
  IDX_HEADER_BYTES,
  IDX_MAGIC,
  IDX_OIDS_START,
  IDX_TRAILER_BYTES,
  IDX_VERSION,
  LARGE_OFFSET_FLAG,
  idxLayout,
  type IdxLayout,
} from "./format.ts";

/** Offsets must stay exact in a JS number: the high word of a 64-bit offset below 2^21. */
const MAX_HIGH_OFFSET_WORD = 2 ** 21;

function corrupt(code: string, message: string): CorruptDataError {
  return new CorruptDataError(`idx.${code}`, `corrupt pack index: ${message}`);
}

/**
 * A version 2 pack index read in place: lookups go through the fan-out table and a binary
 * search over the raw id bytes, so opening one costs a single pass of checks and no per-object
 * allocation.
 */
export class PackIndexFile implements PackIndex {
  readonly objectCount: number;
  readonly packChecksum: Oid;
  private readonly view: DataView;
  /** For lookups by raw id (findPositionAt), built on first use. */
  private table: OidTable | undefined;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly layout: IdxLayout,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.objectCount = layout.objectCount;
    this.packChecksum = oidToHex(bytes, bytes.length - IDX_TRAILER_BYTES);
  }

  oidAt(position: number): Oid {
    this.checkPosition(position);
    return oidToHex(this.bytes, IDX_OIDS_START + position * OID_BYTES);
  }

  crc32At(position: number): number {
    this.checkPosition(position);
    return this.view.getUint32(this.layout.crcStart + position * 4);
  }

  offsetAt(position: number): number {
    this.checkPosition(position);
    const small = this.view.getUint32(this.layout.offsetStart + position * 4);
    if ((small & LARGE_OFFSET_FLAG) === 0) return small;
    const largeAt = this.layout.largeOffsetStart + (small & ~LARGE_OFFSET_FLAG) * 8;
    return this.view.getUint32(largeAt) * 2 ** 32 + this.view.getUint32(largeAt + 4);
  }

  findPosition(oid: Oid): number {
    return this.oidTable().find(oid);
  }

  /**
   * The position of the raw id at `bytes[offset..offset+20)`: for walks over tree entries, which
   * hold raw ids. Both lookups go through a hash table over the index's ids (8 bytes per object,
   * built on first use), not a binary search.
   */
  findPositionAt(bytes: Uint8Array, offset: number): number {
    return this.oidTable().findAt(bytes, offset);
  }

  private oidTable(): OidTable {
    this.table ??= new OidTable(this.bytes.subarray(IDX_OIDS_START, IDX_OIDS_START + this.objectCount * OID_BYTES), this.objectCount);
    return this.table;
  }

  /** The pack offset of `oid`, or undefined when the pack does not hold it. */
  findOffset(oid: Oid): number | undefined {
    const position = this.findPosition(oid);
    return position < 0 ? undefined : this.offsetAt(position);
  }

  private checkPosition(position: number): void {
    if (!(position >= 0 && position < this.objectCount && Number.isInteger(position))) {
      throw new RangeError(`pack index position ${position} out of range 0..${this.objectCount - 1}`);
    }
  }
}

function compareOidAt(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number): number {
  for (let i = 0; i < OID_BYTES; i++) {
    const difference = a[aStart + i] - b[bStart + i];
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * Opens a version 2 .idx after checking everything a lookup relies on: magic and version, the
 * size implied by the fan-out, fan-out monotonicity, ids strictly ascending and in their fan-out
 * bucket, every 64-bit offset reference in range and exact, and the trailing SHA-1.
 */
export function decodePackIndex(bytes: Uint8Array, codec: Codec): PackIndexFile {
  const minimum = IDX_OIDS_START + IDX_TRAILER_BYTES;
  if (bytes.length < minimum) throw corrupt("truncated", `${bytes.length} bytes is too short`);
  for (let i = 0; i < IDX_MAGIC.length; i++) {
    if (bytes[i] !== IDX_MAGIC[i]) throw corrupt("signature", "bad signature (version 1 indexes are not supported)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4);
  if (version !== IDX_VERSION) throw corrupt("version", `unsupported version ${version}`);

  const objectCount = readFanout(view);
  if (objectCount > (bytes.length - minimum) / IDX_BYTES_PER_OBJECT) {
    throw corrupt("truncated", `${objectCount} objects do not fit in ${bytes.length} bytes`);
  }
  const layout = idxLayout(objectCount);
  const largeTableBytes = bytes.length - IDX_TRAILER_BYTES - layout.largeOffsetStart;
  if (largeTableBytes % 8 !== 0) throw corrupt("size", `size ${bytes.length} does not match ${objectCount} objects`);

  const checksumAt = bytes.length - OID_BYTES;
  const actual = codec.sha1().update(bytes.subarray(0, checksumAt)).digest();
  if (compareOidAt(actual, 0, bytes, checksumAt) !== 0) throw corrupt("checksum", "index checksum mismatch");

  checkIdsSorted(bytes, view, objectCount);
  checkOffsets(view, layout, largeTableBytes / 8);
  return new PackIndexFile(bytes, layout);
}

function readFanout(view: DataView): number {
  let previous = 0;
  for (let bucket = 0; bucket < FANOUT_ENTRIES; bucket++) {
    const value = view.getUint32(IDX_HEADER_BYTES + bucket * 4);
    if (value < previous) throw corrupt("fanout", `fan-out entry ${bucket} decreases (${value} < ${previous})`);
    previous = value;
  }
  return previous;
}

function checkIdsSorted(bytes: Uint8Array, view: DataView, objectCount: number): void {
  let position = 0;
  for (let bucket = 0; bucket < FANOUT_ENTRIES; bucket++) {
    const end = view.getUint32(IDX_HEADER_BYTES + bucket * 4);
    for (; position < end; position++) {
      const at = IDX_OIDS_START + position * OID_BYTES;
      if (bytes[at] !== bucket) throw corrupt("fanout", `object ${position} is outside its fan-out bucket ${bucket}`);
      if (position > 0 && compareOidAt(bytes, at - OID_BYTES, bytes, at) >= 0) {
        throw corrupt("order", `object ids are not strictly ascending at position ${position}`);
      }
    }
  }
  if (position !== objectCount) throw corrupt("fanout", "fan-out does not cover every object");
}

function checkOffsets(view: DataView, layout: IdxLayout, largeCount: number): void {
  for (let position = 0; position < layout.objectCount; position++) {
    const small = view.getUint32(layout.offsetStart + position * 4);
    if ((small & LARGE_OFFSET_FLAG) === 0) {
      if (small < PACK_HEADER_BYTES) throw corrupt("offset", `object ${position} has offset ${small} inside the pack header`);
      continue;
    }
    const largeIndex = small & ~LARGE_OFFSET_FLAG;
    if (largeIndex >= largeCount) {
      throw corrupt("offset", `object ${position} refers to 64-bit offset ${largeIndex} of ${largeCount}`);
    }
    if (view.getUint32(layout.largeOffsetStart + largeIndex * 8) >= MAX_HIGH_OFFSET_WORD) {
      throw corrupt("offset", `object ${position} has an offset beyond 2^53`);
    }
  }
}
