import { defaultCodec, type Codec } from "../git/codec/index.ts";
import type { GitObject, ObjectReader } from "../git/object/object.ts";
import { ObjectDatabase } from "../git/odb/index.ts";
import { ZERO_OID, type Oid } from "../git/oid.ts";
import type { PackFile } from "../git/pack/packfile.ts";
import type { RefUpdate, RefUpdateStatus } from "../git/refname.ts";
import { EMPTY_MANIFEST, type AlongsideCommit, type Manifest, type ManifestStore } from "../db/manifests.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import type { RepositoryCacheMetrics } from "./cache-metrics.ts";
import { parsePackFileKey, repositoryKeys, type RepositoryKeys, type RepositoryName } from "./layout.ts";
import { legacyManifestKey, parseLegacyManifest } from "./legacy-manifest.ts";
import { inThreadPackWork, type PackWork } from "./pack-work.ts";
import { loadedPackBytes, MissingPackError, packObjects, readPack, storePack, type LoadedPack } from "./packs.ts";
import { judgeUpdates, Reason, UnpackError, withPack, type IncomingObjects, type Judgement, type PushRequest } from "./push.ts";
import type { Snapshot } from "./snapshot.ts";

/**
 * Where a write comes from: a git push (`import` pushes too), a JSON API write, or maintenance
 * (compaction), which changes no refs and so is never seen by commit hooks or transaction work.
 */
export type WriteSource = "git" | "api" | "maintenance";

/** A committed change of refs, for the layers above (the SQL mirror, the agent registry). */
export interface CommitEvent {
  readonly org: string;
  readonly repo: RepositoryName;
  readonly source: WriteSource;
  readonly before: Snapshot;
  readonly after: Snapshot;
  /** The updates applied, in request order. */
  readonly updates: readonly RefUpdate[];
  readonly pushOptions: readonly string[];
}

/**
 * Runs after every committed change of refs, before the writer is answered. It may return
 * lines for the user; if it throws, the change stays committed and the user is warned.
 */
export type CommitHook = (event: CommitEvent) => Promise<readonly string[] | void> | readonly string[] | void;

/** A change of refs about to be committed: what work in the same transaction (the SQL mirror) sees. */
export interface PendingCommit {
  readonly org: string;
  readonly repo: RepositoryName;
  readonly source: WriteSource;
  readonly before: Snapshot;
  /** The repository's objects and the objects the write adds. */
  readonly objects: ObjectReader;
  readonly updates: readonly RefUpdate[];
  /** The manifest generation the commit creates. */
  readonly generation: number;
}

/**
 * Work to do in the transaction that commits a change of refs, so that it is committed with the
 * refs or not at all (DESIGN.md, "The push transaction", step 5). Undefined: nothing to do.
 */
export type TransactionWork = (pending: PendingCommit) => Promise<AlongsideCommit | undefined> | AlongsideCommit | undefined;

export interface CompactionOptions {
  /** Merge all packs into one when a repository has more than this many. */
  maxPacks: number;
  /**
   * What compaction leaves alone until it is this old (ms): pack files no manifest names (the
   * leftovers of failed writes, and packs merged earlier, which readers on other instances may
   * still hold), and the unreachable objects of packs younger than this. A database backup
   * younger than this restores consistently with the bucket.
   */
  gracePeriodMs: number;
  /** Merge even at or under maxPacks, when that drops unreachable objects (`stategit gc`). */
  force?: boolean;
}

export const DEFAULT_COMPACTION: CompactionOptions = { maxPacks: 16, gracePeriodMs: 60 * 60 * 1000 };

export interface RepositoriesOptions {
  codec?: Codec;
  /** Memory for cached repositories: their pack and index bytes and their object caches. */
  cacheBytes?: number;
  /** Each cached repository's cache of inflated objects. */
  objectCacheBytes?: number;
  onCommit?: CommitHook;
  inTransaction?: TransactionWork;
  /** Compaction started in the background after a write leaves too many packs; false: never. */
  compaction?: CompactionOptions | false;
  /** Where failures of background work (compaction) go. */
  onBackgroundError?: (error: unknown) => void;
  metrics?: RepositoryCacheMetrics;
  /** Where pushed packs are indexed and compaction repacks; by default on the calling thread. */
  packWork?: PackWork;
}

export interface PushResult {
  /** Set when the pack could not be unpacked; every update then failed. */
  unpackError?: string;
  statuses: RefUpdateStatus[];
  /** Lines for the user (side-band 2). */
  messages: string[];
  /** The repository after the push, when it changed anything. */
  committed?: Snapshot;
}

/** What a write plans against one snapshot: the ref updates, and a pack of objects they need. */
export interface WritePlan<T> {
  updates: readonly RefUpdate[];
  objects?: readonly GitObject[];
  result: T;
}

export interface WriteResult<T> {
  /** The result of the plan that was committed, or of the last one tried. */
  result: T;
  /** The repository after the write; undefined when the plan changed nothing or kept losing races. */
  committed?: Snapshot;
  messages: string[];
}

export interface CompactionResult {
  /** The merged pack, when packs were merged into a non-empty one. */
  pack?: string;
  mergedPacks: number;
  /** Objects left out of the merged pack: unreachable, and in packs older than the grace period. */
  droppedObjects: number;
  /** Keys of unreferenced pack files deleted. */
  deleted: string[];
}

export const DEFAULT_CACHE_BYTES = 512 * 1024 * 1024;
const DEFAULT_OBJECT_CACHE_BYTES = 8 * 1024 * 1024;
/**
 * What a cached repository costs beyond its packs (maps, manifest, snapshot, object database).
 * Measured with heap statistics over 1,000 small agents (scripts/bench/agents.ts has the RSS
 * curve): a repository of three small packs held 28 KB of heap, of which 4 KB were counted
 * before, so that the cache budget was exceeded more than twice over.
 */
const ENTRY_OVERHEAD_BYTES = 8192;
/** Commit attempts of one write before its updates are refused as contended. */
const MAX_WRITE_ATTEMPTS = 5;
const CONTENDED = "failed to lock";

/** One write's change of the manifest. */
interface ManifestChange {
  updates: readonly RefUpdate[];
  addPack?: LoadedPack;
  removePacks?: ReadonlySet<string>;
}

type Planner<T> = (snapshot: Snapshot) => Promise<{ change: ManifestChange; result: T }>;

interface TransactionOutcome<T> {
  result: T;
  committed?: Snapshot;
  contended: boolean;
  messages: string[];
}

function applyChange(manifest: Manifest, change: ManifestChange): Manifest {
  const refs = new Map(manifest.refs);
  for (const { ref, newOid } of change.updates) {
    if (newOid === ZERO_OID) refs.delete(ref);
    else refs.set(ref, newOid);
  }
  const packs = manifest.packs.filter((name) => !change.removePacks?.has(name));
  if (change.addPack && !packs.includes(change.addPack.name)) packs.push(change.addPack.name);
  return { generation: manifest.generation + 1, head: manifest.head, refs, packs };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A repository held in memory: its packs in one object database, and its latest snapshot. */
class CachedRepository {
  readonly packs = new Map<string, LoadedPack>();
  readonly loadingPacks = new Map<string, Promise<LoadedPack>>();
  latest?: Snapshot;
  /** The load in flight, shared by every request that saw the same manifest generation. */
  loading?: { generation: number; promise: Promise<Snapshot> };
  /** Set once the store was found to hold no manifest.json of an older version for this repository. */
  noLegacyManifest = false;
  packBytes = 0;

  constructor(
    readonly keys: RepositoryKeys,
    readonly org: string,
    readonly repo: RepositoryName,
    readonly objects: ObjectDatabase,
  ) {}

  get bytes(): number {
    return ENTRY_OVERHEAD_BYTES + this.packBytes + this.objects.cache.usedBytes;
  }
}

/**
 * The repositories of a blob store and a manifest table, cached in memory (DESIGN.md, "Where
 * things live", "The push transaction"). Packs never change, so a cached repository is checked
 * for freshness with one read of its manifest row's generation per request; only new packs are
 * ever read. Repositories are evicted least recently used first, within `cacheBytes`.
 */
export class Repositories {
  private readonly codec: Codec;
  private readonly cacheBytes: number;
  private readonly objectCacheBytes: number;
  private readonly compaction: CompactionOptions | false;
  private readonly packWork: PackWork;
  /** Least recently used first (Map insertion order). */
  private readonly cached = new Map<string, CachedRepository>();
  private readonly compacting = new Map<string, Promise<void>>();
  /** The last commit queued per repository (see oneWriteAtATime). */
  private readonly writing = new Map<string, Promise<void>>();

  constructor(
    private readonly store: BlobStore,
    private readonly manifests: ManifestStore,
    private readonly options: RepositoriesOptions = {},
  ) {
    this.codec = options.codec ?? defaultCodec;
    this.cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
    this.objectCacheBytes = options.objectCacheBytes ?? DEFAULT_OBJECT_CACHE_BYTES;
    this.compaction = options.compaction ?? DEFAULT_COMPACTION;
    this.packWork = options.packWork ?? inThreadPackWork(this.codec);
  }

  /** The current snapshot of `{org}/{repo}`; a never-written repository is empty (HEAD → refs/heads/main). */
  async snapshot(org: string, repo: RepositoryName): Promise<Snapshot> {
    const entry = this.entry(repositoryKeys(org, repo), org, repo);
    return this.snapshotOf(entry, await this.manifests.generation(org, repo));
  }

  /**
   * The snapshot of `{org}/{repo}` whose manifest row the caller has just read the generation of
   * (undefined: no row), so that a request resolving its repository in the database (a shared
   * repository's attachment) makes no second read for the freshness check.
   */
  async snapshotAt(org: string, repo: RepositoryName, rowGeneration: number | undefined): Promise<Snapshot> {
    return this.snapshotOf(this.entry(repositoryKeys(org, repo), org, repo), rowGeneration);
  }

  private async snapshotOf(entry: CachedRepository, rowGeneration: number | undefined): Promise<Snapshot> {
    const generation = rowGeneration ?? (await this.adoptLegacyManifest(entry));
    if (entry.latest && entry.latest.manifest.generation >= generation) {
      this.options.metrics?.hit();
      return entry.latest;
    }
    this.options.metrics?.miss();
    if (generation === 0) return this.install(entry, EMPTY_MANIFEST, []);
    if (entry.loading && entry.loading.generation === generation) return entry.loading.promise;
    const promise = this.load(entry);
    entry.loading = { generation, promise };
    const done = () => {
      if (entry.loading?.promise === promise) entry.loading = undefined;
    };
    promise.then(done, done);
    return promise;
  }

  /**
   * Applies a push: indexes and checks the pack once, then judges the updates against the
   * current snapshot and commits the accepted ones with one manifest swap, judging again after
   * a lost race. Nothing is visible unless the swap succeeds.
   */
  async push(org: string, repo: RepositoryName, request: PushRequest): Promise<PushResult> {
    const first = await this.snapshot(org, repo);
    let incoming: IncomingObjects = {};
    try {
      if (request.pack !== undefined && request.pack.length > 0) incoming = await this.packWork.receive(first.objects, request.pack, request.limits);
    } catch (error) {
      if (!(error instanceof UnpackError)) throw error;
      const statuses = request.updates.map(({ ref }): RefUpdateStatus => ({ ref, ok: false, reason: Reason.unpackerError }));
      return { unpackError: error.message, statuses, messages: [] };
    }
    const outcome = await this.oneWriteAtATime(repositoryKeys(org, repo).id, () =>
      this.transact(
        org,
        repo,
        async (snapshot) => {
          const judgement = await judgeUpdates(snapshot, incoming, request, this.codec);
          const needsPack = incoming.dangling === undefined && judgement.accepted.some(({ newOid }) => newOid !== ZERO_OID);
          return { change: { updates: judgement.accepted, addPack: needsPack ? incoming.pack : undefined }, result: judgement };
        },
        { source: "git", pushOptions: request.pushOptions ?? [] },
      ),
    );
    return { statuses: finalStatuses(outcome), messages: [...outcome.result.messages, ...outcome.messages], committed: outcome.committed };
  }

  /**
   * A write planned in memory (the JSON API's commits): `plan` sees the current snapshot and
   * returns the updates and the new objects they need; after a lost race it runs again on the
   * new snapshot. Each update must already be valid for the snapshot it was planned on.
   */
  async write<T>(org: string, repo: RepositoryName, plan: (snapshot: Snapshot) => Promise<WritePlan<T>>): Promise<WriteResult<T>> {
    const outcome = await this.oneWriteAtATime(repositoryKeys(org, repo).id, () =>
      this.transact(org, repo, async (snapshot) => {
        const { updates, objects, result } = await plan(snapshot);
        const addPack = objects && objects.length > 0 ? await packObjects(objects, this.codec, snapshot.objects.cache) : undefined;
        return { change: { updates, addPack }, result };
      }, { source: "api" }),
    );
    return { result: outcome.result, committed: outcome.committed, messages: outcome.messages };
  }

  /**
   * Runs the commits of one repository (pushes and planned writes) one after another in this
   * process: concurrent API writes would otherwise mostly lose their races to each other and run
   * out of attempts, and starve pushes. Only other instances still race them, which the write
   * loop absorbs. A push's pack is read and indexed before it queues.
   */
  private oneWriteAtATime<R>(id: string, run: () => Promise<R>): Promise<R> {
    const previous = this.writing.get(id) ?? Promise.resolve();
    const mine = previous.then(run);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.writing.set(id, settled);
    settled.then(() => {
      if (this.writing.get(id) === settled) this.writing.delete(id);
    });
    return mine;
  }

  /**
   * Merges the packs of `{org}/{repo}` into one when there are more than `maxPacks` (or, with
   * `force`, whenever that drops something), keeping every object reachable from the refs and
   * every object of a pack younger than the grace period; then deletes pack files no manifest
   * names that are older than the grace period. A reader that finds a pack gone reads the
   * manifest again (see load); a push that raced the merge is judged again on the merged
   * repository, and the merge is planned again when the refs moved.
   */
  async compact(org: string, repo: RepositoryName, options: CompactionOptions = this.compaction || DEFAULT_COMPACTION): Promise<CompactionResult> {
    const keys = repositoryKeys(org, repo);
    let merged: MergedPacks | undefined;
    const outcome = await this.transact(org, repo, async (snapshot) => {
      const packs = snapshot.manifest.packs;
      if (packs.length === 0 || (!options.force && packs.length <= Math.max(1, options.maxPacks))) return { change: { updates: [] }, result: undefined };
      if (!merged || merged.refs !== snapshot.refs || ![...merged.sources].every((name) => packs.includes(name))) {
        merged = await this.mergePacks(snapshot, await this.packTimes(keys), options.gracePeriodMs);
      }
      if (packs.length === 1 && merged.droppedObjects === 0) return { change: { updates: [] }, result: undefined };
      return { change: { updates: [], addPack: merged.pack, removePacks: merged.sources }, result: undefined };
    }, { source: "maintenance" });
    const current = outcome.committed ?? (await this.snapshot(org, repo));
    const deleted = await this.deleteGarbage(keys, current.manifest, options.gracePeriodMs);
    if (!outcome.committed || !merged) return { mergedPacks: 0, droppedObjects: 0, deleted };
    return { pack: merged.pack?.name, mergedPacks: merged.sources.size, droppedObjects: merged.droppedObjects, deleted };
  }

  /**
   * Deletes every pack file of `{org}/{repo}` and forgets its cached copy: for a repository whose
   * manifest row is gone (a deleted shared repository), so that nothing names the files any more.
   */
  async deleteFiles(org: string, repo: RepositoryName): Promise<number> {
    const keys = repositoryKeys(org, repo);
    this.cached.delete(keys.id);
    const files = await this.store.list(keys.packsPrefix);
    await Promise.all(files.map(({ key }) => this.store.delete(key)));
    return files.length;
  }

  /** Resolves when the background compactions started so far have finished. */
  async idle(): Promise<void> {
    while (this.compacting.size > 0) await Promise.all(this.compacting.values());
  }

  private entry(keys: RepositoryKeys, org: string, repo: RepositoryName): CachedRepository {
    let entry = this.cached.get(keys.id);
    if (entry) this.cached.delete(keys.id);
    else entry = new CachedRepository(keys, org, repo, new ObjectDatabase(this.codec, { cacheBytes: this.objectCacheBytes }));
    this.cached.set(keys.id, entry);
    return entry;
  }

  private async load(entry: CachedRepository): Promise<Snapshot> {
    for (let attempt = 1; ; attempt++) {
      const manifest = (await this.manifests.read(entry.org, entry.repo)) ?? EMPTY_MANIFEST;
      try {
        const packs = await Promise.all(manifest.packs.map((name) => this.loadPack(entry, name)));
        return this.install(entry, manifest, packs);
      } catch (error) {
        // A compaction may have deleted a pack this manifest named after it was read: read the manifest once more.
        if (!(error instanceof MissingPackError) || attempt === 2) throw error;
      }
    }
  }

  private loadPack(entry: CachedRepository, name: string): LoadedPack | Promise<LoadedPack> {
    const loaded = entry.packs.get(name);
    if (loaded) return loaded;
    let pending = entry.loadingPacks.get(name);
    if (!pending) {
      pending = readPack(this.store, entry.keys, name, this.codec, entry.objects.cache);
      const settled = () => entry.loadingPacks.delete(name);
      pending.then(settled, settled);
      entry.loadingPacks.set(name, pending);
    }
    return pending;
  }

  /**
   * Makes `manifest` the entry's latest snapshot unless a newer one is installed already
   * (a slow load finishing late); the snapshot returned is `manifest`'s either way.
   */
  private install(entry: CachedRepository, manifest: Manifest, packs: readonly LoadedPack[]): Snapshot {
    const snapshot: Snapshot = {
      org: entry.org,
      repo: entry.repo,
      head: manifest.head,
      refs: manifest.refs,
      objects: entry.objects,
      manifest,
    };
    if (entry.latest && entry.latest.manifest.generation >= manifest.generation) return snapshot;
    for (const pack of packs) {
      if (entry.packs.has(pack.name)) continue;
      entry.packs.set(pack.name, pack);
      entry.objects.addPack(pack.file);
      entry.packBytes += loadedPackBytes(pack);
    }
    const live = new Set(manifest.packs);
    for (const [name, pack] of entry.packs) {
      if (live.has(name)) continue;
      entry.packs.delete(name);
      entry.objects.removePack(pack.file);
      entry.packBytes -= loadedPackBytes(pack);
    }
    entry.latest = snapshot;
    this.evictBeyondBudget(entry);
    return snapshot;
  }

  private evictBeyondBudget(keep: CachedRepository): void {
    let total = 0;
    for (const entry of this.cached.values()) total += entry.bytes;
    for (const [id, entry] of this.cached) {
      if (total <= this.cacheBytes) break;
      if (entry === keep) continue;
      this.cached.delete(id);
      total -= entry.bytes;
    }
    this.options.metrics?.cachedBytes(total);
  }

  /**
   * The write loop: plan against a snapshot, store the plan's pack (create-only), commit the
   * manifest row; on a lost race, plan again on the new snapshot, up to MAX_WRITE_ATTEMPTS times.
   */
  private async transact<T>(
    org: string,
    repo: RepositoryName,
    planner: Planner<T>,
    { source, pushOptions = [] }: { source: WriteSource; pushOptions?: readonly string[] },
  ): Promise<TransactionOutcome<T>> {
    const keys = repositoryKeys(org, repo);
    const stored = new Set<string>();
    let snapshot = await this.snapshot(org, repo);
    for (let attempt = 1; ; attempt++) {
      const { change, result } = await planner(snapshot);
      if (change.updates.length === 0 && !change.addPack && !change.removePacks) return { result, contended: false, messages: [] };
      if (change.addPack && !stored.has(change.addPack.name)) {
        await storePack(this.store, keys, change.addPack);
        stored.add(change.addPack.name);
      }
      const manifest = applyChange(snapshot.manifest, change);
      const alongside =
        change.updates.length > 0
          ? await this.options.inTransaction?.({
              org,
              repo,
              source,
              before: snapshot,
              objects: withPack(snapshot.objects, change.addPack, this.codec),
              updates: change.updates,
              generation: manifest.generation,
            })
          : undefined;
      if (await this.manifests.commit(org, repo, manifest, alongside)) {
        const committed = await this.installCommitted(keys, snapshot, manifest, change.addPack);
        const messages = change.updates.length > 0 ? await this.notify({ org, repo, source, before: snapshot, after: committed, updates: change.updates, pushOptions }) : [];
        this.compactInBackground(org, repo, manifest);
        return { result, committed, contended: false, messages };
      }
      if (attempt === MAX_WRITE_ATTEMPTS) return { result, contended: true, messages: [] };
      snapshot = await this.snapshot(org, repo);
    }
  }

  private async installCommitted(keys: RepositoryKeys, before: Snapshot, manifest: Manifest, added?: LoadedPack): Promise<Snapshot> {
    const entry = this.entry(keys, before.org, before.repo);
    const packs = await Promise.all(manifest.packs.map((name) => (name === added?.name ? added : this.loadPack(entry, name))));
    return this.install(entry, manifest, packs);
  }

  /**
   * A repository without a manifest row may have been written by a version that kept its
   * manifest in the store: adopt it into a row, once (the insert does nothing when another
   * request or instance adopted it first). Returns the row's generation, 0 when there is none.
   */
  private async adoptLegacyManifest(entry: CachedRepository): Promise<number> {
    if (entry.noLegacyManifest) return 0;
    const legacy = await this.store.get(legacyManifestKey(entry.keys.id));
    if (!legacy) {
      entry.noLegacyManifest = true;
      return 0;
    }
    const manifest = parseLegacyManifest(legacy);
    await this.manifests.insertIfAbsent(entry.org, entry.repo, { ...manifest, generation: Math.max(1, manifest.generation) });
    return (await this.manifests.generation(entry.org, entry.repo)) ?? 0;
  }

  private async notify(event: CommitEvent): Promise<string[]> {
    if (!this.options.onCommit) return [];
    try {
      return [...((await this.options.onCommit(event)) ?? [])];
    } catch (error) {
      return [`warning: the change is stored, but updating what depends on it failed: ${errorMessage(error)}`];
    }
  }

  private compactInBackground(org: string, repo: RepositoryName, manifest: Manifest): void {
    const { id } = repositoryKeys(org, repo);
    if (!this.compaction || manifest.packs.length <= this.compaction.maxPacks || this.compacting.has(id)) return;
    const run = this.compact(org, repo, this.compaction)
      .then(
        () => undefined,
        (error: unknown) => this.options.onBackgroundError?.(error),
      )
      .finally(() => this.compacting.delete(id));
    this.compacting.set(id, run);
  }

  /**
   * One pack of the objects of `snapshot`'s packs that the refs reach or that sit in a pack
   * younger than the grace period, stored deltas reused; no pack when nothing is kept.
   */
  private async mergePacks(snapshot: Snapshot, packTimes: ReadonlyMap<string, Date>, gracePeriodMs: number): Promise<MergedPacks> {
    const entry = this.entry(repositoryKeys(snapshot.org, snapshot.repo), snapshot.org, snapshot.repo);
    const sources = new Set(snapshot.manifest.packs);
    const packs = await Promise.all([...sources].map((name) => this.loadPack(entry, name)));
    const cutoff = Date.now() - gracePeriodMs;
    // A pack the listing does not show yet was written a moment ago: young.
    const young = new Set<PackFile>(packs.filter(({ name }) => (packTimes.get(name)?.getTime() ?? Infinity) > cutoff).map(({ file }) => file));
    const tips = [...new Set(snapshot.refs.values())];
    const { pack, droppedObjects } = await this.packWork.merge(snapshot.objects, packs.map(({ file }) => file), young, tips);
    return { pack, sources, refs: snapshot.refs, droppedObjects };
  }

  /** When each pack of the repository was written, from one listing of its pack files. */
  private async packTimes(keys: RepositoryKeys): Promise<Map<string, Date>> {
    const times = new Map<string, Date>();
    for (const { key, updated } of await this.store.list(keys.packsPrefix)) {
      const parsed = parsePackFileKey(keys, key);
      if (parsed?.extension === ".pack") times.set(parsed.packName, updated);
    }
    return times;
  }

  private async deleteGarbage(keys: RepositoryKeys, manifest: Manifest, gracePeriodMs: number): Promise<string[]> {
    const live = new Set(manifest.packs);
    const cutoff = Date.now() - gracePeriodMs;
    const garbage = (await this.store.list(keys.packsPrefix)).filter(({ key, updated }) => {
      const parsed = parsePackFileKey(keys, key);
      return parsed !== undefined && !live.has(parsed.packName) && updated.getTime() <= cutoff;
    });
    await Promise.all(garbage.map(({ key }) => this.store.delete(key)));
    return garbage.map(({ key }) => key);
  }
}

/** A merge of a snapshot's packs, valid while those packs are live and the refs are the ones it was computed for. */
interface MergedPacks {
  /** Undefined when nothing is kept (no refs, no young pack). */
  pack?: LoadedPack;
  sources: ReadonlySet<string>;
  refs: ReadonlyMap<string, Oid>;
  droppedObjects: number;
}

/** The judgement's statuses; when every commit race was lost, the updates it accepted could not be applied. */
function finalStatuses(outcome: TransactionOutcome<Judgement>): RefUpdateStatus[] {
  if (!outcome.contended) return outcome.result.statuses;
  return outcome.result.statuses.map((status): RefUpdateStatus => (status.ok ? { ref: status.ref, ok: false, reason: CONTENDED } : status));
}
