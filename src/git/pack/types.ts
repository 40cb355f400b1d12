import type { ObjectType } from "../object/object.ts";
import type { Oid } from "../oid.ts";
import type { PackObjectKind } from "./format.ts";

/** Bounds on what one incoming pack may cost; exceeding any throws LimitExceededError. */
export interface PackLimits {
  /** Largest inflated object (or delta) in bytes. */
  maxObjectSize: number;
  /** Longest delta chain. */
  maxDeltaDepth: number;
  /** Sum of all inflated bytes (objects and deltas) the pack may produce. */
  maxInflatedBytes: number;
  maxObjectCount: number;
}

export const DEFAULT_PACK_LIMITS: PackLimits = {
  maxObjectSize: 100 * 1024 * 1024,
  maxDeltaDepth: 4095,
  maxInflatedBytes: 4 * 1024 * 1024 * 1024,
  maxObjectCount: 5_000_000,
};

/** Sees an object of a pack being indexed, once its id is known (the data is shared: do not keep or modify it). */
export type IndexedObjectVisitor = (oid: Oid, type: ObjectType, data: Uint8Array) => void;

/** A pack's .idx, sorted by object id (gitformat-pack, "Version 2 pack-*.idx files"). */
export interface PackIndex {
  readonly objectCount: number;
  /** The pack's trailing checksum, as hex. */
  readonly packChecksum: Oid;
  oidAt(position: number): Oid;
  offsetAt(position: number): number;
  crc32At(position: number): number;
  /** Position of `oid` in sorted order, or -1 when the pack does not hold it. */
  findPosition(oid: Oid): number;
  /** Position of the raw id at `bytes[offset..offset+20)`, or -1. */
  findPositionAt(bytes: Uint8Array, offset: number): number;
}

/** One object as indexing found it: what a .idx records, plus its type. */
export interface IndexedEntry {
  oid: Oid;
  offset: number;
  crc32: number;
  type: ObjectType;
  /** Inflated size of the object itself (not of its delta). */
  size: number;
}

/**
 * An object as stored in a pack, for delta reuse by the writer: the compressed bytes after the
 * entry header, copied verbatim into an outgoing pack.
 */
export interface StoredEntry {
  kind: PackObjectKind;
  /** Inflated size of what `compressed` holds (the delta, for OFS/REF deltas). */
  size: number;
  compressed: Uint8Array;
  /** For OFS_DELTA and REF_DELTA: the id of the base object. */
  baseOid?: Oid;
  /**
   * The pack holding the entry (any object identifying it). The writer does not retry deltas
   * between two objects of one pack when the pack stored the target whole, as git does.
   */
  pack?: object;
}

/** What the counting step hands the pack writer: which object, and a path hint for delta search. */
export interface PackObjectSpec {
  oid: Oid;
  type: ObjectType;
  /** The path the object was reached by (trees and blobs); git sorts delta candidates by it. */
  path?: string;
}
