import type { Codec } from "../codec/codec.ts";
import { CorruptDataError, MissingObjectError } from "../errors.ts";
import { decodePackIndex } from "../idxfile/decoder.ts";
import type { ObjectType } from "../object/object.ts";
import { kindToType } from "./format.ts";
import { bytesToEntries } from "./input/bytes-to-entries.ts";
import { sortedEntries } from "./input/index-pack.ts";
import { resolveDeltas, type ResolvedPack } from "./input/resolve-deltas.ts";
import { DEFAULT_PACK_LIMITS, type PackLimits } from "./types.ts";

/** What `git verify-pack -s` reports about a pack. */
export interface VerifyResult {
  objectCount: number;
  objectsByType: Record<ObjectType, number>;
  /** Objects stored as OFS_DELTA or REF_DELTA. */
  deltaCount: number;
  maxChainLength: number;
  /** chainLengths[n]: how many objects have a delta chain of length n (n = 0: whole objects). */
  chainLengths: number[];
}

function mismatch(code: string, message: string): CorruptDataError {
  return new CorruptDataError(`verify.${code}`, message);
}

/**
 * Checks a stored pack against its index, as `git verify-pack` does: the pack's trailer, the
 * index's own checksum and structure, that the index lists exactly the pack's objects with their
 * offsets and CRCs, and that every object inflates, resolves within the pack and hashes to its
 * id. Any difference throws CorruptDataError naming the first one found.
 */
export function verifyPack(pack: Uint8Array, idxBytes: Uint8Array, codec: Codec, limits: PackLimits = DEFAULT_PACK_LIMITS): VerifyResult {
  const index = decodePackIndex(idxBytes, codec);
  let resolved: ResolvedPack;
  try {
    resolved = resolveDeltas(bytesToEntries(pack, codec, limits), codec, limits);
  } catch (error) {
    if (error instanceof MissingObjectError) throw mismatch("unresolved-delta", `pack is not self-contained: ${error.message}`);
    throw error;
  }
  if (index.packChecksum !== resolved.scanned.packChecksum) {
    throw mismatch("pack-checksum", `index is for pack ${index.packChecksum}, the pack's checksum is ${resolved.scanned.packChecksum}`);
  }
  const entries = sortedEntries(resolved);
  if (index.objectCount !== entries.length) {
    throw mismatch("object-count", `index lists ${index.objectCount} objects, the pack holds ${entries.length}`);
  }
  entries.forEach((entry, position) => {
    const listed = index.oidAt(position);
    if (listed !== entry.oid) throw mismatch("oid", `index lists ${listed} at position ${position}, the pack's object there is ${entry.oid}`);
    const offset = index.offsetAt(position);
    if (offset !== entry.offset) throw mismatch("offset", `index puts ${entry.oid} at offset ${offset}, the pack has it at ${entry.offset}`);
    const crc = index.crc32At(position);
    if (crc !== entry.crc32) throw mismatch("crc", `index CRC-32 of ${entry.oid} is ${crc.toString(16)}, the pack entry's is ${entry.crc32.toString(16)}`);
  });
  return statistics(resolved);
}

function statistics(resolved: ResolvedPack): VerifyResult {
  const { scanned, objectKinds, depths } = resolved;
  const objectsByType: Record<ObjectType, number> = { commit: 0, tree: 0, blob: 0, tag: 0 };
  const chainLengths: number[] = [0];
  for (let i = 0; i < scanned.objectCount; i++) {
    objectsByType[kindToType(objectKinds[i])]++;
    while (chainLengths.length <= depths[i]) chainLengths.push(0);
    chainLengths[depths[i]]++;
  }
  return {
    objectCount: scanned.objectCount,
    objectsByType,
    deltaCount: scanned.objectCount - chainLengths[0],
    maxChainLength: chainLengths.length - 1,
    chainLengths,
  };
}
