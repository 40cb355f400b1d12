import type { Oid } from "../git/oid.ts";
import type { SnapshotObjects } from "./snapshot.ts";

/** A pack already sent once, with what its "Total" progress line reports. */
export interface CachedPack {
  bytes: Uint8Array;
  objectCount: number;
  deltas: number;
}

/** Larger clone packs are not kept: memory goes to the repositories' object caches instead. */
const MAX_CACHED_PACK_BYTES = 64 * 1024 * 1024;

/**
 * Full clones — no haves, no shallow boundary, no filter — of the same tips get the same
 * objects, and a repository's object database only ever gains objects, so the pack written for
 * one can be replayed to the next without walking history or searching deltas again: what
 * reachability bitmaps buy git. Keyed by the object database, so a cached pack dies with its
 * repository's cache entry; one pack each (the latest tips), bounded in size.
 */
const packs = new WeakMap<SnapshotObjects, { key: string; pack: CachedPack }>();

export function clonePackKey(wants: readonly Oid[], includedTags: readonly Oid[], ofsDelta: boolean): string {
  return `${ofsDelta ? "ofs" : "ref"} ${[...wants].sort().join(",")} ${[...includedTags].sort().join(",")}`;
}

export function cachedClonePack(objects: SnapshotObjects, key: string): CachedPack | undefined {
  const entry = packs.get(objects);
  return entry?.key === key ? entry.pack : undefined;
}

export function rememberClonePack(objects: SnapshotObjects, key: string, pack: CachedPack): void {
  if (pack.bytes.length <= MAX_CACHED_PACK_BYTES) packs.set(objects, { key, pack });
}
