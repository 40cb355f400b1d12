import type { ObjectType } from "../../object/object.ts";
import type { Oid } from "../../oid.ts";
import type { StoredEntry } from "../types.ts";

/**
 * One object the writer handles: an object to pack, or (thin packs) a base the receiver has,
 * which may serve as a delta base but is never written. The counting step fills in what is
 * stored, the entry step decides how it is written, the bytes step records where.
 */
export class PackEntry {
  /** Inflated object size; -1 until something needs it. */
  size = -1;
  stored: StoredEntry | undefined;
  /** The object this one is written as a delta against, reused or found by the delta search. */
  base: PackEntry | undefined;
  /** True when the delta is the stored one, copied verbatim. */
  reusedDelta = false;
  /** Inflated size of the delta when `base` is set. */
  deltaSize = 0;
  /** The delta search's delta, already deflated. */
  compressedDelta: Uint8Array | undefined;
  /** Links from this object down to a whole object. */
  depth = 0;
  /** Longest chain of reused deltas built on this object (git's check_delta_limit). */
  reusedDependentDepth = 0;
  /** Where the entry starts in the written pack; -1 until written. */
  offset = -1;

  constructor(
    readonly oid: Oid,
    readonly type: ObjectType,
    /** Position in the input (recency) order: ties in the delta search sort go to the newest. */
    readonly order: number,
    readonly nameHash: number,
    readonly thinBase: boolean,
  ) {}

  setDelta(base: PackEntry, deltaSize: number, reused: boolean): void {
    this.base = base;
    this.deltaSize = deltaSize;
    this.reusedDelta = reused;
  }

  dropDelta(): void {
    this.base = undefined;
    this.deltaSize = 0;
    this.reusedDelta = false;
    this.compressedDelta = undefined;
    this.depth = 0;
  }
}

const encoder = new TextEncoder();

function isSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

/**
 * git's pack_name_hash: a sortable number built from the last sixteen non-space bytes of the
 * path, the last counting most, so that files with the same name and suffix sort together.
 */
export function pathNameHash(path: string | undefined): number {
  if (!path) return 0;
  let hash = 0;
  const mix = (byte: number) => {
    if (!isSpace(byte)) hash = ((hash >>> 2) + ((byte << 24) >>> 0)) >>> 0;
  };
  if (/^[\x00-\x7f]*$/.test(path)) {
    for (let i = 0; i < path.length; i++) mix(path.charCodeAt(i));
  } else {
    for (const byte of encoder.encode(path)) mix(byte);
  }
  return hash;
}
