import type { Codec } from "../codec/codec.ts";
import { CorruptDataError } from "../errors.ts";
import { OID_BYTES, writeOid, type Oid } from "../oid.ts";
import {
  FANOUT_ENTRIES,
  IDX_HEADER_BYTES,
  IDX_MAGIC,
  IDX_OIDS_START,
  IDX_TRAILER_BYTES,
  IDX_VERSION,
  LARGE_OFFSET_FLAG,
  idxLayout,
} from "./format.ts";

/** What a .idx records about one packed object. */
export interface PackIndexEntry {
  oid: Oid;
  offset: number;
  crc32: number;
}

/** Offsets from 2^31 on go to the 64-bit table, as git's write_idx_file does. */
const LARGEST_SMALL_OFFSET = 0x7fffffff;

function compareByOid(a: PackIndexEntry, b: PackIndexEntry): number {
  return a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0;
}

/**
 * Writes a version 2 pack index for `entries` (any order), byte-identical to what
 * `git index-pack` writes for the same pack. The same id twice is refused, as
 * `git index-pack --strict` and `git verify-pack` refuse it.
 */
export function encodePackIndex(entries: readonly PackIndexEntry[], packChecksum: Oid, codec: Codec): Uint8Array {
  const sorted = isSortedByOid(entries) ? entries : entries.slice().sort(compareByOid);
  const count = sorted.length;
  let largeCount = 0;
  for (let i = 0; i < count; i++) {
    const { offset } = sorted[i];
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`invalid pack offset ${offset}`);
    if (offset > LARGEST_SMALL_OFFSET) largeCount++;
    if (i > 0 && sorted[i - 1].oid === sorted[i].oid) {
      throw new CorruptDataError("pack.duplicate", `the same object ${sorted[i].oid} appears twice in the pack`);
    }
  }
  const layout = idxLayout(count);
  const trailerStart = layout.largeOffsetStart + largeCount * 8;
  const out = new Uint8Array(trailerStart + IDX_TRAILER_BYTES);
  const view = new DataView(out.buffer);
  out.set(IDX_MAGIC, 0);
  view.setUint32(4, IDX_VERSION);

  let largeIndex = 0;
  for (let i = 0; i < count; i++) {
    const { oid, offset, crc32 } = sorted[i];
    const oidStart = IDX_OIDS_START + i * OID_BYTES;
    writeOid(out, oidStart, oid);
    view.setUint32(layout.crcStart + i * 4, crc32 >>> 0);
    if (offset > LARGEST_SMALL_OFFSET) {
      view.setUint32(layout.offsetStart + i * 4, (LARGE_OFFSET_FLAG | largeIndex) >>> 0);
      const largeAt = layout.largeOffsetStart + largeIndex * 8;
      view.setUint32(largeAt, Math.floor(offset / 2 ** 32));
      view.setUint32(largeAt + 4, offset >>> 0);
      largeIndex++;
    } else {
      view.setUint32(layout.offsetStart + i * 4, offset);
    }
  }
  writeFanout(view, out, count);
  writeOid(out, trailerStart, packChecksum);
  out.set(codec.sha1().update(out.subarray(0, trailerStart + OID_BYTES)).digest(), trailerStart + OID_BYTES);
  return out;
}

function isSortedByOid(entries: readonly PackIndexEntry[]): boolean {
  for (let i = 1; i < entries.length; i++) if (entries[i - 1].oid > entries[i].oid) return false;
  return true;
}

/** Fan-out entry b = how many ids have a first byte ≤ b; derived from the ids already written. */
function writeFanout(view: DataView, out: Uint8Array, count: number): void {
  let position = 0;
  for (let bucket = 0; bucket < FANOUT_ENTRIES; bucket++) {
    while (position < count && out[IDX_OIDS_START + position * OID_BYTES] <= bucket) position++;
    view.setUint32(IDX_HEADER_BYTES + bucket * 4, position);
  }
}
