import type { ObjectDatabase } from "../git/odb/index.ts";
import type { Oid } from "../git/oid.ts";
import type { Manifest } from "../db/manifests.ts";
import type { RepositoryName } from "./layout.ts";

/**
 * One consistent view of a repository (the protocol's RepositorySnapshot): the refs of one
 * manifest, and the repository's objects. Objects are only ever added (compaction moves them
 * into a merged pack), so `objects` may hold more than these refs reach, never less.
 */
export interface Snapshot {
  readonly org: string;
  /** The repository's name within the organisation (see RepositoryName). */
  readonly repo: RepositoryName;
  /** HEAD's symbolic target; it may be unborn (absent from `refs`). */
  readonly head: string;
  readonly refs: ReadonlyMap<string, Oid>;
  readonly objects: ObjectDatabase;
  readonly manifest: Manifest;
}
