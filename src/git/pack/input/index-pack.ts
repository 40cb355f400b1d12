import type { Codec } from "../../codec/codec.ts";
import { CorruptDataError } from "../../errors.ts";
import type { ObjectReader } from "../../object/object.ts";
import { OID_BYTES, writeOid, type Oid } from "../../oid.ts";
import { kindToType, type PackObjectKind } from "../format.ts";
import { DEFAULT_PACK_LIMITS, type IndexedEntry, type IndexedObjectVisitor, type PackLimits } from "../types.ts";
import { bytesToEntries } from "./bytes-to-entries.ts";
import { entriesToBytes, type CompletedPack } from "./entries-to-bytes.ts";
import { DEFAULT_BASE_CACHE_BYTES, resolveDeltas, type ResolvedPack } from "./resolve-deltas.ts";
import { sameOid, sortByOid } from "./sort-by-oid.ts";

export interface IndexPackOptions {
  codec: Codec;
  limits?: Partial<PackLimits>;
  /** Where REF_DELTA bases missing from the pack are looked up (a thin pack's repository). */
  thinBases?: ObjectReader;
  /** Sees every object of the pack (not the appended thin bases) as it is indexed: checks without a second read. */
  onObject?: IndexedObjectVisitor;
}

export interface IndexedPack {
  /** The pack, self-contained: the input itself, or a new pack when thin bases were appended. */
  pack: Uint8Array;
  packChecksum: Oid;
  /** Every object of `pack`, sorted by id. */
  entries: IndexedEntry[];
  /** Ids of the bases appended from `thinBases`, in pack order. */
  appendedBases: Oid[];
}

/**
 * Indexes an incoming pack, as `git index-pack --strict --fix-thin` does: scan and check every
 * entry (bytes_to_entries), resolve every delta and compute every id, complete a thin pack with
 * its bases (entries_to_bytes). Throws CorruptDataError, LimitExceededError or
 * MissingObjectError; the input is never modified.
 */
export function indexPack(pack: Uint8Array, options: IndexPackOptions): IndexedPack {
  const { codec } = options;
  const limits: PackLimits = { ...DEFAULT_PACK_LIMITS, ...options.limits };
  const scanned = bytesToEntries(pack, codec, limits, options.onObject);
  const resolved = resolveDeltas(scanned, codec, limits, options.thinBases, DEFAULT_BASE_CACHE_BYTES, options.onObject);
  const { thinBases } = resolved;
  if (thinBases.length === 0) {
    return { pack, packChecksum: scanned.packChecksum, entries: sortedEntries(resolved), appendedBases: [] };
  }
  const completed = entriesToBytes(scanned, thinBases, codec);
  return {
    pack: completed.pack,
    packChecksum: completed.packChecksum,
    entries: sortedEntries(resolved, completed),
    appendedBases: thinBases.map((base) => base.oid),
  };
}

/**
 * Every object of the pack (and of `completed`'s appended bases), sorted by id. The same id twice
 * is refused, as `git index-pack --strict` and `git verify-pack` refuse it.
 */
export function sortedEntries(resolved: ResolvedPack, completed?: CompletedPack): IndexedEntry[] {
  const { scanned, thinBases, objectKinds, objectSizes } = resolved;
  const packed = scanned.objectCount;
  const count = packed + (completed ? thinBases.length : 0);
  let digests = scanned.digests;
  if (count > packed) {
    digests = new Uint8Array(count * OID_BYTES);
    digests.set(scanned.digests);
    thinBases.forEach((base, i) => writeOid(digests, (packed + i) * OID_BYTES, base.oid));
  }
  const order = sortByOid(digests, count);
  const entries = new Array<IndexedEntry>(count);
  for (let position = 0; position < count; position++) {
    const index = order[position];
    if (position > 0 && sameOid(digests, order[position - 1], index)) {
      const oid = index < packed ? scanned.oids[index] : thinBases[index - packed].oid;
      throw new CorruptDataError("pack.duplicate", `the same object ${oid} appears twice in the pack`);
    }
    if (index < packed) {
      entries[position] = {
        oid: scanned.oids[index],
        offset: scanned.offsets[index],
        crc32: scanned.crcs[index],
        type: kindToType(objectKinds[index] as PackObjectKind),
        size: objectSizes[index],
      };
    } else {
      const base = thinBases[index - packed];
      const { offset, crc32 } = (completed as CompletedPack).appended[index - packed];
      entries[position] = { oid: base.oid, offset, crc32, type: base.type, size: base.data.length };
    }
  }
  return entries;
}
