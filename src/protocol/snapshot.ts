import type { ObjectReader } from "../git/object/object.ts";
import type { Oid } from "../git/oid.ts";
import type { ObjectInfo, PackFile } from "../git/pack/packfile.ts";
import type { StoredEntry } from "../git/pack/types.ts";

/**
 * The objects of a repository as the protocol reads them: random access by id and, when the
 * objects live in packs, the stored (compressed, possibly deltified) entry for verbatim reuse
 * and type and size without rebuilding the object (blob:limit filters). An ObjectDatabase.
 */
export type SnapshotObjects = ObjectReader & {
  stored?(oid: Oid): StoredEntry | undefined;
  readInfo?(oid: Oid): ObjectInfo | undefined;
  /** The packs holding the objects, and how many objects are held outside them (full clones copy whole packs). */
  readonly packs?: readonly PackFile[];
  readonly unpackedCount?: number;
};

/**
 * One consistent view of a repository, taken by the repository layer for one request. The
 * protocol never mutates it.
 */
export interface RepositorySnapshot {
  /** HEAD's symbolic target, e.g. "refs/heads/main"; it may be unborn (absent from `refs`). */
  head?: string;
  /** Every ref but HEAD: refs/heads/*, refs/tags/* … */
  refs: ReadonlyMap<string, Oid>;
  objects: SnapshotObjects;
}
