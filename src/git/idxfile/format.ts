/**
 * Version 2 pack index layout (gitformat-pack, "Version 2 pack-*.idx files support packs larger
 * than 4 GiB"): magic and version, a 256-entry fan-out table, the sorted object ids, their
 * CRC-32s, their 31-bit offsets (most significant bit set: an index into the 64-bit offset
 * table that follows), then the pack checksum and the checksum of the index itself.
 */
export const IDX_MAGIC = Uint8Array.of(0xff, 0x74, 0x4f, 0x63); // "\377tOc"
export const IDX_VERSION = 2;
export const IDX_HEADER_BYTES = 8;
export const FANOUT_ENTRIES = 256;
export const FANOUT_BYTES = FANOUT_ENTRIES * 4;
/** Where the sorted object ids start. */
export const IDX_OIDS_START = IDX_HEADER_BYTES + FANOUT_BYTES;
/** Bytes per object outside the 64-bit table: id, CRC-32 and 32-bit offset. */
export const IDX_BYTES_PER_OBJECT = 20 + 4 + 4;
/** Pack checksum and index checksum. */
export const IDX_TRAILER_BYTES = 40;
/** An offset with this bit set indexes the 64-bit offset table instead. */
export const LARGE_OFFSET_FLAG = 0x80000000;

export interface IdxLayout {
  objectCount: number;
  crcStart: number;
  offsetStart: number;
  largeOffsetStart: number;
}

export function idxLayout(objectCount: number): IdxLayout {
  const crcStart = IDX_OIDS_START + objectCount * 20;
  const offsetStart = crcStart + objectCount * 4;
  return { objectCount, crcStart, offsetStart, largeOffsetStart: offsetStart + objectCount * 4 };
}
