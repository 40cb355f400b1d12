import type { Codec } from "../git/codec/codec.ts";
import type { ObjectDatabase } from "../git/odb/index.ts";
import type { Oid } from "../git/oid.ts";
import type { PackFile } from "../git/pack/packfile.ts";
import type { PackLimits, PackObjectSpec } from "../git/pack/types.ts";
import { listObjects } from "../git/walk/index.ts";
import { repackObjects, type LoadedPack } from "./packs.ts";
import { collectAfterReceive, receivePack, type IncomingObjects } from "./push.ts";

/** A merge of packs: one pack of the objects kept, and how many were left out. */
export interface MergedObjects {
  /** Undefined when nothing is kept (no refs, no young pack). */
  pack?: LoadedPack;
  droppedObjects: number;
}

/**
 * The CPU-heavy steps of writes: indexing a pushed pack and compaction's repack. They run on
 * the calling thread (inThreadPackWork) or are handed to worker threads (src/workers), so that
 * a large push or a compaction does not hold up every other request.
 */
export interface PackWork {
  /**
   * receivePack: throws UnpackError for a pack that cannot be unpacked. The pack's buffer may be
   * taken (transferred to another thread): the caller must not read it afterwards.
   */
  receive(repository: ObjectDatabase, pack: Uint8Array, limits?: Partial<PackLimits>): Promise<IncomingObjects>;
  /** mergeObjects over `sources`, which `repository` holds. */
  merge(repository: ObjectDatabase, sources: readonly PackFile[], youngPacks: ReadonlySet<PackFile>, tips: readonly Oid[]): Promise<MergedObjects>;
}

/**
 * One pack of the objects of `sources` that `tips` reach (read through `reader`) or that sit in
 * a young pack (younger than compaction's grace period), stored deltas reused.
 */
export async function mergeObjects(
  reader: ObjectDatabase,
  sources: readonly PackFile[],
  youngPacks: ReadonlySet<PackFile>,
  tips: readonly Oid[],
  codec: Codec,
): Promise<MergedObjects> {
  const specs = new Map<string, PackObjectSpec>();
  for (const spec of listObjects({ reader, include: [...tips] })) specs.set(spec.oid, spec);
  const stored = new Set<string>();
  for (const file of sources) {
    const young = youngPacks.has(file);
    for (const oid of file.oids()) {
      stored.add(oid);
      if (young && !specs.has(oid)) specs.set(oid, { oid, type: file.type(oid)! });
    }
  }
  const kept = [...specs.values()];
  const pack = kept.length > 0 ? await repackObjects(kept, reader, codec, reader.cache) : undefined;
  return { pack, droppedObjects: stored.size - kept.length };
}

/** Pack work on the calling thread: for commands and tests, and a server run with `--workers 0`. */
export function inThreadPackWork(codec: Codec): PackWork {
  return {
    receive: async (repository, pack, limits) => {
      const incoming = receivePack(repository, pack, codec, limits);
      collectAfterReceive(pack);
      return incoming;
    },
    merge: (repository, sources, youngPacks, tips) => mergeObjects(repository, sources, youngPacks, tips, codec),
  };
}
