import type { Codec } from "../git/codec/codec.ts";
import { GitError } from "../git/errors.ts";
import { fsckObject, type GitObject, type ObjectReader } from "../git/object/index.ts";
import { classifyGitDirFile, parseLooseObject, parsePackedRefs, parseRefFile, type RefFileValue } from "../git/gitdir/index.ts";
import { ObjectDatabase } from "../git/odb/index.ts";
import { ZERO_OID, type Oid } from "../git/oid.ts";
import { indexPack } from "../git/pack/input/index.ts";
import type { PackLimits } from "../git/pack/types.ts";
import { isUpdatableRefName } from "../git/refname.ts";
import { findMissing } from "../git/walk/index.ts";
import { checkName, InvalidNameError } from "../names.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { preparePack } from "./packs.ts";

/**
 * The previous service's repositories: the plain files of a `.git` directory under
 * `{org}/{agent}/repo.git/` in a blob store. This module finds them and reads one into memory;
 * import.ts writes it into stategit's layout.
 */

/** One repository found in the source store. */
export interface SourceRepository {
  org: string;
  agent: string;
  /** `{org}/{agent}/repo.git/`: every file's key starts with it. */
  prefix: string;
  /** Paths of its files, relative to `prefix`. */
  files: string[];
  /** Their total size, as listed: what reading the repository into memory starts from. */
  bytes: number;
}

/** What discovery found under one `{org}/{agent}/repo.git/`: a repository, or names stategit cannot take. */
export type DiscoveredSource = { kind: "repository"; id: string; repository: SourceRepository } | { kind: "invalid"; id: string; reason: string };

export interface SourceFilter {
  org?: string;
  agent?: string;
}

/** A ref, or a file under refs/, left out of the import. */
export interface SkippedRef {
  name: string;
  reason: string;
}

/** A source repository's refs, read before its objects: a repository already imported needs no more. */
export interface SourceRefs {
  /** HEAD, when it could be read. */
  head?: RefFileValue;
  /** Refs stategit can hold, name → id; loose refs take precedence over packed-refs. Not checked for connectivity. */
  refs: Map<string, Oid>;
  skippedRefs: SkippedRef[];
  /** What the reader noticed that is not a ref: an unreadable HEAD, alternates, a shallow repository. */
  notes: string[];
}

const REPOSITORY_KEY = /^([^/]+)\/([^/]+)\/repo\.git\/(.+)$/;
/** Loose objects read at once: a GCS read costs 10-50 ms, and a repository may have thousands. */
const READ_CONCURRENCY = 16;

/** The repositories under the store, grouped from one listing (narrowed by `filter`), sorted by id (`org/agent`). */
export async function discoverSources(store: BlobStore, filter: SourceFilter): Promise<DiscoveredSource[]> {
  const prefix = filter.org === undefined ? "" : filter.agent === undefined ? `${filter.org}/` : `${filter.org}/${filter.agent}/repo.git/`;
  const byId = new Map<string, SourceRepository>();
  for (const { key, size } of await store.list(prefix)) {
    const match = REPOSITORY_KEY.exec(key);
    if (!match || (filter.agent !== undefined && match[2] !== filter.agent)) continue;
    const [, org, agent, path] = match;
    const id = `${org}/${agent}`;
    let repository = byId.get(id);
    if (!repository) byId.set(id, (repository = { org, agent, prefix: `${id}/repo.git/`, files: [], bytes: 0 }));
    repository.files.push(path);
    repository.bytes += size;
  }
  return [...byId.keys()].sort().map((id): DiscoveredSource => {
    const repository = byId.get(id)!;
    try {
      checkName("organisation", repository.org);
      checkName("agent id", repository.agent);
      return { kind: "repository", id, repository };
    } catch (error) {
      if (!(error instanceof InvalidNameError)) throw error;
      return { kind: "invalid", id, reason: error.message };
    }
  });
}

/** The message of a parser's typed error; anything else is not the data's fault and propagates. */
function parseFailure(error: unknown): string {
  if (!(error instanceof GitError)) throw error;
  return error.message;
}

/** Runs `fn` on every item, at most `limit` at a time. */
async function forEachConcurrently<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A source repository's files by what they hold. */
interface GroupedFiles {
  head: boolean;
  packedRefs: boolean;
  looseRefs: string[];
  looseObjects: Oid[];
  packs: string[];
  notes: string[];
}

function groupFiles(files: readonly string[]): GroupedFiles {
  const grouped: GroupedFiles = { head: false, packedRefs: false, looseRefs: [], looseObjects: [], packs: [], notes: [] };
  for (const path of files) {
    const file = classifyGitDirFile(path);
    if (file.kind === "head") grouped.head = true;
    else if (file.kind === "packed-refs") grouped.packedRefs = true;
    else if (file.kind === "loose-ref") grouped.looseRefs.push(file.name);
    else if (file.kind === "loose-object") grouped.looseObjects.push(file.oid);
    else if (file.kind === "pack") grouped.packs.push(file.name);
    else if (file.kind === "alternates") grouped.notes.push("objects/info/alternates is not followed: objects borrowed from another repository are not imported");
    else if (file.kind === "shallow") grouped.notes.push("the repository is shallow: refs whose history is cut off are skipped");
  }
  return grouped;
}

/** One source repository's files, read on demand. */
export class SourceReader {
  private readonly files: GroupedFiles;

  constructor(
    private readonly store: BlobStore,
    readonly source: SourceRepository,
  ) {
    this.files = groupFiles(source.files);
  }

  /**
   * HEAD, packed-refs and loose refs. A ref file that cannot be parsed is left out and noted;
   * only a corrupt packed-refs fails the whole repository (its refs are then unknown). Errors of
   * the store itself propagate.
   */
  async refs(): Promise<SourceRefs> {
    const refs: SourceRefs = { refs: new Map(), skippedRefs: [], notes: [...this.files.notes] };
    const head = this.files.head ? await this.read("HEAD") : undefined;
    try {
      if (head) refs.head = parseRefFile(head, "HEAD");
      else refs.notes.push("no HEAD");
    } catch (error) {
      refs.notes.push(`HEAD is unreadable: ${parseFailure(error)}`);
    }
    const packedRefs = this.files.packedRefs ? await this.read("packed-refs") : undefined;
    const values = new Map<string, RefValue>();
    for (const { name, oid } of packedRefs ? parsePackedRefs(packedRefs) : []) {
      values.set(name, isUpdatableRefName(name) ? { kind: "direct", oid } : { kind: "unsupported" });
    }
    const loose = new Map<string, RefValue>();
    await forEachConcurrently(this.files.looseRefs, READ_CONCURRENCY, async (name) => {
      // Not read: such a name may not even be a valid storage key.
      if (!isUpdatableRefName(name)) return void loose.set(name, { kind: "unsupported" });
      const bytes = await this.read(name);
      try {
        if (bytes) loose.set(name, parseRefFile(bytes, name));
      } catch (error) {
        loose.set(name, { kind: "unreadable", reason: parseFailure(error) });
      }
    });
    for (const [name, value] of loose) values.set(name, value);
    for (const name of [...values.keys()].sort()) {
      const value = values.get(name)!;
      const reason = skipReason(value);
      if (reason !== undefined) refs.skippedRefs.push({ name, reason });
      else if (value.kind === "direct") refs.refs.set(name, value.oid);
    }
    return refs;
  }

  /**
   * Every pack (indexed afresh: its .idx is not trusted) and every loose object not already in a
   * pack. What cannot be parsed is left out and noted in `notes`.
   */
  async objects(codec: Codec, limits: PackLimits, notes: string[]): Promise<ObjectDatabase> {
    const objects = new ObjectDatabase(codec);
    for (const name of this.files.packs) {
      const bytes = await this.read(`objects/pack/${name}.pack`);
      if (!bytes) continue;
      try {
        const indexed = indexPack(bytes, { codec, limits });
        objects.addPack(preparePack(indexed.pack, indexed.entries, indexed.packChecksum, codec, objects.cache).file);
      } catch (error) {
        notes.push(`pack ${name} is unreadable, its objects are left out: ${parseFailure(error)}`);
      }
    }
    const unpacked = this.files.looseObjects.filter((oid) => !objects.hasObject(oid));
    await forEachConcurrently(unpacked, READ_CONCURRENCY, async (oid) => {
      const bytes = await this.read(`objects/${oid.slice(0, 2)}/${oid.slice(2)}`);
      if (!bytes) return;
      try {
        const object = parseLooseObject(oid, bytes, codec, limits.maxObjectSize);
        objects.addObject(object.type, object.data);
      } catch (error) {
        notes.push(`loose object ${oid} is unreadable, left out: ${parseFailure(error)}`);
      }
    });
    return objects;
  }

  private read(path: string): Promise<Uint8Array | undefined> {
    return this.store.get(this.source.prefix + path);
  }
}

/** A ref as read, before it is judged. */
type RefValue = RefFileValue | { kind: "unreadable"; reason: string } | { kind: "unsupported" };

function skipReason(value: RefValue): string | undefined {
  switch (value.kind) {
    case "unsupported":
      return "not a ref name stategit can hold";
    case "unreadable":
      return `unreadable: ${value.reason}`;
    case "symbolic":
      return `symbolic ref to ${value.target}: stategit holds no symbolic refs besides HEAD`;
    case "direct":
      return value.oid === ZERO_OID ? "points at the null id" : undefined;
  }
}

/**
 * The source's objects, where one that fails the push's fsck counts as absent: the push would
 * refuse the whole pack for it, so the refs that reach it are skipped instead. Each commit,
 * tree and tag is checked once, when the walk first reads it.
 */
class CheckedObjects implements ObjectReader {
  /** Objects that failed, with git's reason. */
  readonly refused = new Map<Oid, string>();
  private readonly passed = new Set<Oid>();

  constructor(private readonly objects: ObjectDatabase) {}

  hasObject(oid: Oid): boolean {
    if (!this.objects.hasObject(oid)) return false;
    return this.objects.readType(oid) === "blob" || this.readObject(oid) !== undefined;
  }

  readObject(oid: Oid): GitObject | undefined {
    const object = this.objects.readObject(oid);
    if (!object || object.type === "blob" || this.passed.has(oid)) return object;
    if (this.refused.has(oid)) return undefined;
    try {
      fsckObject(object.type, object.data);
    } catch (error) {
      this.refused.set(oid, parseFailure(error));
      return undefined;
    }
    this.passed.add(oid);
    return object;
  }
}

/**
 * Splits the refs into those whose every reachable object is present and passes fsck, and those
 * that are not (the previous service's known failure: a ref written before its objects), with
 * the first missing object, else the first refused one, or why an object could not be read. One
 * walk answers when nothing is missing; otherwise each ref is walked, stopping at the history of
 * the refs already found complete.
 */
export function checkConnectivity(refs: ReadonlyMap<string, Oid>, objects: ObjectDatabase): { complete: Map<string, Oid>; incomplete: SkippedRef[] } {
  const checked = new CheckedObjects(objects);
  const connected = (tips: readonly Oid[], complete: readonly Oid[]): string | undefined => {
    let missing: Oid[];
    try {
      missing = findMissing(checked, tips, complete);
    } catch (error) {
      return `unreadable history: ${parseFailure(error)}`;
    }
    const absent = missing.filter((oid) => !checked.refused.has(oid));
    if (absent.length > 0) return `missing object ${absent[0]}${missing.length > 1 ? ` and ${missing.length - 1} more` : ""}`;
    if (missing.length > 0) return `object ${missing[0]} fails git fsck: ${checked.refused.get(missing[0])}`;
    return undefined;
  };
  if (connected([...refs.values()], []) === undefined) return { complete: new Map(refs), incomplete: [] };
  const complete = new Map<string, Oid>();
  const incomplete: SkippedRef[] = [];
  for (const [name, oid] of refs) {
    const reason = connected([oid], [...new Set(complete.values())]);
    if (reason === undefined) complete.set(name, oid);
    else incomplete.push({ name, reason });
  }
  return { complete, incomplete };
}
