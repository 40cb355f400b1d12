import type { Codec } from "../git/codec/codec.ts";
import { GitError } from "../git/errors.ts";
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
}

/** A `{org}/{agent}/repo.git/` whose names stategit cannot take. */
export interface InvalidSourceRepository {
  id: string;
  reason: string;
}

export interface SourceFilter {
  org?: string;
  agent?: string;
}

/** A ref, or a file under refs/, left out of the import. */
export interface SkippedRef {
  name: string;
  reason: string;
}

/** A source repository in memory: its refs and every object its packs and loose files hold. */
export interface LoadedSource {
  /** HEAD, when it could be read. */
  head?: RefFileValue;
  /** Refs stategit can hold, name → id; loose refs take precedence over packed-refs. Not checked for connectivity. */
  refs: Map<string, Oid>;
  objects: ObjectDatabase;
  skippedRefs: SkippedRef[];
  /** Things left out that are not refs (unreadable packs and loose objects, alternates, HEAD problems). */
  notes: string[];
}

const REPOSITORY_KEY = /^([^/]+)\/([^/]+)\/repo\.git\/(.+)$/;
/** Loose objects read at once: a GCS read costs 10-50 ms, and a repository may have thousands. */
const READ_CONCURRENCY = 16;

/** The repositories under the store, grouped from one listing (narrowed by `filter`), sorted by id. */
export async function discoverSources(
  store: BlobStore,
  filter: SourceFilter,
): Promise<{ repositories: SourceRepository[]; invalid: InvalidSourceRepository[] }> {
  const prefix = filter.org === undefined ? "" : filter.agent === undefined ? `${filter.org}/` : `${filter.org}/${filter.agent}/repo.git/`;
  const byId = new Map<string, SourceRepository>();
  for (const { key } of await store.list(prefix)) {
    const match = REPOSITORY_KEY.exec(key);
    if (!match || (filter.agent !== undefined && match[2] !== filter.agent)) continue;
    const [, org, agent, path] = match;
    const id = `${org}/${agent}`;
    let repository = byId.get(id);
    if (!repository) byId.set(id, (repository = { org, agent, prefix: `${id}/repo.git/`, files: [] }));
    repository.files.push(path);
  }
  const repositories: SourceRepository[] = [];
  const invalid: InvalidSourceRepository[] = [];
  for (const id of [...byId.keys()].sort()) {
    const repository = byId.get(id)!;
    try {
      checkName("organisation", repository.org);
      checkName("agent id", repository.agent);
      repositories.push(repository);
    } catch (error) {
      if (!(error instanceof InvalidNameError)) throw error;
      invalid.push({ id, reason: error.message });
    }
  }
  return { repositories, invalid };
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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

const UNSUPPORTED_NAME = "not a ref name stategit can hold";

type ReadFile = (path: string) => Promise<Uint8Array | undefined>;

/**
 * Reads a source repository: HEAD, packed-refs and loose refs, every pack (indexed afresh: its
 * .idx is not trusted) and every loose object not already in a pack. A file that cannot be
 * parsed is left out and noted; only a corrupt packed-refs fails the whole repository (its refs
 * are then unknown). Errors of the store itself propagate.
 */
export async function loadSource(store: BlobStore, source: SourceRepository, codec: Codec, limits: PackLimits): Promise<LoadedSource> {
  const files = groupFiles(source.files);
  const read: ReadFile = (path) => store.get(source.prefix + path);
  const loaded: LoadedSource = { refs: new Map(), objects: new ObjectDatabase(codec), skippedRefs: [], notes: files.notes };
  const head = files.head ? await read("HEAD") : undefined;
  try {
    if (head) loaded.head = parseRefFile(head, "HEAD");
  } catch (error) {
    loaded.notes.push(`HEAD is unreadable: ${reasonOf(error)}`);
  }
  await readRefs(files, read, loaded);
  await readObjects(files, read, loaded, codec, limits);
  return loaded;
}

/** The refs of packed-refs, overridden by loose refs (as git reads them), into `loaded.refs` or `loaded.skippedRefs`. */
async function readRefs(files: GroupedFiles, read: ReadFile, loaded: LoadedSource): Promise<void> {
  const values = new Map<string, RefFileValue | { kind: "unreadable"; reason: string }>();
  const packedRefs = files.packedRefs ? await read("packed-refs") : undefined;
  for (const { name, oid } of packedRefs ? parsePackedRefs(packedRefs) : []) values.set(name, { kind: "direct", oid });
  for (const name of files.looseRefs) {
    // Not read: such a name may not even be a valid storage key.
    if (!isUpdatableRefName(name)) {
      values.delete(name);
      loaded.skippedRefs.push({ name, reason: UNSUPPORTED_NAME });
      continue;
    }
    const bytes = await read(name);
    try {
      if (bytes) values.set(name, parseRefFile(bytes, name));
    } catch (error) {
      values.set(name, { kind: "unreadable", reason: reasonOf(error) });
    }
  }
  for (const name of [...values.keys()].sort()) {
    const value = values.get(name)!;
    let reason: string | undefined;
    if (!isUpdatableRefName(name)) reason = UNSUPPORTED_NAME;
    else if (value.kind === "unreadable") reason = `unreadable: ${value.reason}`;
    else if (value.kind === "symbolic") reason = `symbolic ref to ${value.target}: stategit holds no symbolic refs besides HEAD`;
    else if (value.oid === ZERO_OID) reason = "points at the null id";
    else loaded.refs.set(name, value.oid);
    if (reason !== undefined) loaded.skippedRefs.push({ name, reason });
  }
}

async function readObjects(files: GroupedFiles, read: ReadFile, loaded: LoadedSource, codec: Codec, limits: PackLimits): Promise<void> {
  for (const name of files.packs) {
    const bytes = await read(`objects/pack/${name}.pack`);
    if (!bytes) continue;
    try {
      const indexed = indexPack(bytes, { codec, limits });
      loaded.objects.addPack(preparePack(indexed.pack, indexed.entries, indexed.packChecksum, codec, loaded.objects.cache).file);
    } catch (error) {
      if (!(error instanceof GitError)) throw error;
      loaded.notes.push(`pack ${name} is unreadable, its objects are left out: ${error.message}`);
    }
  }
  const unpacked = files.looseObjects.filter((oid) => !loaded.objects.hasObject(oid));
  await forEachConcurrently(unpacked, READ_CONCURRENCY, async (oid) => {
    const bytes = await read(`objects/${oid.slice(0, 2)}/${oid.slice(2)}`);
    if (!bytes) return;
    try {
      const object = parseLooseObject(oid, bytes, codec, limits.maxObjectSize);
      loaded.objects.addObject(object.type, object.data);
    } catch (error) {
      if (!(error instanceof GitError)) throw error;
      loaded.notes.push(`loose object ${oid} is unreadable, left out: ${error.message}`);
    }
  });
}

/**
 * Splits the refs into those whose every reachable object is present, and those that are not
 * (the previous service's known failure: a ref written before its objects), with the first
 * missing object or why an object could not be read. One walk answers when nothing is missing;
 * otherwise each ref is walked, stopping at the history of the refs already found complete.
 */
export function checkConnectivity(loaded: LoadedSource): { complete: Map<string, Oid>; incomplete: SkippedRef[] } {
  const connected = (tips: readonly Oid[], complete: readonly Oid[]): string | undefined => {
    try {
      const missing = findMissing(loaded.objects, tips, complete);
      if (missing.length === 0) return undefined;
      return `missing object ${missing[0]}${missing.length > 1 ? ` and ${missing.length - 1} more` : ""}`;
    } catch (error) {
      if (!(error instanceof GitError)) throw error;
      return `unreadable history: ${error.message}`;
    }
  };
  if (connected([...loaded.refs.values()], []) === undefined) return { complete: new Map(loaded.refs), incomplete: [] };
  const complete = new Map<string, Oid>();
  const incomplete: SkippedRef[] = [];
  for (const [name, oid] of loaded.refs) {
    const reason = connected([oid], [...new Set(complete.values())]);
    if (reason === undefined) complete.set(name, oid);
    else incomplete.push({ name, reason });
  }
  return { complete, incomplete };
}
