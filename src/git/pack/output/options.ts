import type { Codec } from "../../codec/codec.ts";
import { defaultCodec } from "../../codec/index.ts";
import type { Oid } from "../../oid.ts";
import type { PackObjectSpec } from "../types.ts";

export type PackPhase = "counting" | "compressing" | "writing";

export interface PackWriteOptions {
  codec?: Codec;
  /** Delta search window: each object is tried against the `window - 1` before it (git's pack.window, 10). */
  window?: number;
  /** Longest delta chain written (git's pack.depth, 50; capped at 4095 as git does). */
  depth?: number;
  /** Write deltas against in-pack bases as OFS_DELTA (the client sent `ofs-delta`); else REF_DELTA. */
  ofsDelta?: boolean;
  /** Allow deltas against `thinBases`, which the receiver has and the pack does not contain. */
  thin?: boolean;
  /**
   * Objects the receiver has (e.g. the trees and blobs of the common commits). Give specs with
   * paths where possible: the delta search pairs objects by path, and only bases whose type and
   * path hash match an object being packed are read.
   */
  thinBases?: ReadonlyArray<Oid | PackObjectSpec>;
  /** Copy stored deltas whose base is in the pack or (thin) known to the receiver. */
  reuseDeltas?: boolean;
  /** Copy stored whole objects' compressed bytes instead of deflating again. */
  reuseObjects?: boolean;
  /** zlib level for what is compressed afresh; default zlib's (git's core.compression -1). */
  compressionLevel?: number;
  /** Objects larger than this are never delta candidates (git's core.bigFileThreshold, 512 MiB). */
  bigFileThreshold?: number;
  /** Return each written object's offset and CRC-32 (what a .idx records) with the result. */
  indexEntries?: boolean;
  onProgress?(phase: PackPhase, done: number, total: number): void;
}

export interface ResolvedPackOptions {
  codec: Codec;
  window: number;
  depth: number;
  ofsDelta: boolean;
  thin: boolean;
  thinBases: ReadonlyArray<Oid | PackObjectSpec>;
  reuseDeltas: boolean;
  reuseObjects: boolean;
  compressionLevel: number | undefined;
  bigFileThreshold: number;
  indexEntries: boolean;
  onProgress: (phase: PackPhase, done: number, total: number) => void;
}

/** git caps --depth at 4095, the most its pack-objects entry can record. */
export const MAX_DELTA_DEPTH = 4095;

function wholeNumber(value: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined || !Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(0, Math.floor(value)));
}

export function resolvePackOptions(options: PackWriteOptions): ResolvedPackOptions {
  return {
    codec: options.codec ?? defaultCodec,
    window: wholeNumber(options.window, 10),
    depth: wholeNumber(options.depth, 50, MAX_DELTA_DEPTH),
    ofsDelta: options.ofsDelta ?? true,
    thin: options.thin ?? false,
    thinBases: options.thinBases ?? [],
    reuseDeltas: options.reuseDeltas ?? true,
    reuseObjects: options.reuseObjects ?? true,
    compressionLevel: options.compressionLevel,
    bigFileThreshold: wholeNumber(options.bigFileThreshold, 512 * 1024 * 1024),
    indexEntries: options.indexEntries ?? false,
    onProgress: options.onProgress ?? (() => {}),
  };
}
