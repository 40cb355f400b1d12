import type { Codec } from "../git/codec/codec.ts";
import { defaultCodec } from "../git/codec/index.ts";
import type { ObjectDatabase } from "../git/odb/index.ts";
import type { Oid } from "../git/oid.ts";
import type { PackFile } from "../git/pack/packfile.ts";
import { knownPackReferences, rememberPackReferences } from "../git/pack/references.ts";
import type { PackLimits } from "../git/pack/types.ts";
import { runPackJob, type PackJob, type PackJobRunner } from "../protocol/pack-job.ts";
import type { SentPack } from "../protocol/pack-stream.ts";
import type { RepositorySnapshot } from "../protocol/snapshot.ts";
import type { MergedObjects, PackWork } from "../repo/pack-work.ts";
import { openPack, packFileBytes } from "../repo/packs.ts";
import { receivePack, type IncomingObjects } from "../repo/push.ts";
import { errorFrom, transferOf, type MadePack, type MergedPack, type PackRef, type PackWorkerJob, type ReceivedPack, type UploadedPack } from "./messages.ts";
import { WorkerPool, type PoolWorker, type WorkerPoolObserver } from "./pool.ts";

/**
 * The CPU-heavy work of the server on a pool of worker threads: the packs of clones and of
 * fetches that are not small, indexing pushed packs, and compaction's merges. The request
 * thread keeps the light requests (advertisements, ls-refs, negotiation, small fetches, the
 * JSON API), so none of them waits behind another request's delta search or SHA-1.
 *
 * What the workers get: the repository's pack and index bytes, which the repository layer holds
 * in SharedArrayBuffers (repo/packs.ts, openPack), so a worker reads them where they lie. Each
 * worker opens a pack once (decodes its index) and keeps it by name; later jobs send the name
 * alone. Measured against the alternatives: copying a 15k-object repository's packs (about 4 MB)
 * to a worker costs the request thread a few milliseconds per copy and a copy of the memory per
 * worker; cutting the work into slices that yield (what writePack did alone) still runs every
 * slice on the request thread, so a light request waits for the slice in progress and for the
 * slices queued before it: p99 of up-to-date fetches under concurrent clones was 120 ms.
 * Results come back without copies too: packs a worker makes are written into shared memory,
 * framed response chunks are moved (transferred), and a pushed pack's buffer is moved to the
 * worker (the request no longer reads it).
 */

/**
 * A pushed pack up to this size is indexed on the request thread: 5-10 ms of work (a push of 100
 * commits, 140 KB, 500 objects), less than the hand-over, which makes the worker open the
 * repository's packs and this thread decode the index it sends back (such a push answered in 82
 * ms through a worker, 53 ms without, at 70 and 55 ms of CPU).
 */
const SMALL_RECEIVED_PACK_BYTES = 256 * 1024;

/** The packs a worker holds, least recently used first, and their bytes. */
interface HeldPacks {
  names: Map<string, number>;
  bytes: number;
}

export interface PackWorkersOptions {
  size: number;
  queueLimit: number;
  /**
   * Memory of packs one worker may keep open beyond those of its current job. The bytes are
   * shared with the request thread; this bounds what a worker keeps alive after the repository
   * cache let a pack go.
   */
  heldBytesPerWorker: number;
  observer?: WorkerPoolObserver;
  /** Pushed packs up to this many bytes are indexed on the request thread; SMALL_RECEIVED_PACK_BYTES by default. */
  smallReceivedPackBytes?: number;
  /** The worker script; pack-worker.ts by default. */
  url?: string | URL;
  codec?: Codec;
}

/**
 * pack-worker.ts: beside this module when running from the sources; in the compiled binary it is
 * an entry point of its own (scripts/build.ts), found by its path under src/.
 */
function packWorkerUrl(): string {
  const beside = new URL("./pack-worker.ts", import.meta.url).href;
  return beside.startsWith("file:///$bunfs/") ? "./workers/pack-worker.ts" : beside;
}

/** The job's packs for `worker`: names of the packs it holds, bytes of the others; and what it should let go. */
function packRefs(worker: PoolWorker<HeldPacks>, packs: readonly PackFile[], budget: number): { packs: PackRef[]; forget: string[] } {
  const held = worker.state;
  const refs = packs.map((file): PackRef => {
    const name = file.checksum;
    const size = held.names.get(name);
    held.names.delete(name);
    if (size !== undefined) {
      held.names.set(name, size);
      return { name };
    }
    const bytes = packFileBytes(file);
    if (!bytes) throw new Error(`pack ${name} was not opened from stored bytes`);
    held.names.set(name, bytes.pack.length + bytes.index.length);
    held.bytes += bytes.pack.length + bytes.index.length;
    return { name, bytes: { ...bytes, references: knownPackReferences(file) } };
  });
  const needed = new Set(refs.map(({ name }) => name));
  const forget: string[] = [];
  for (const [name, size] of held.names) {
    if (held.bytes <= budget) break;
    if (needed.has(name)) continue;
    held.names.delete(name);
    held.bytes -= size;
    forget.push(name);
  }
  return { packs: refs, forget };
}

/** Chunks as a worker posts them, read by one consumer as an async generator. */
class ChunkStream<Result> {
  private readonly chunks: Uint8Array[] = [];
  private outcome?: { result: Result } | { error: Error };
  private wake?: () => void;

  push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.wake?.();
  }

  end(outcome: { result: Result } | { error: Error }): void {
    this.outcome = outcome;
    this.wake?.();
  }

  async *read(): AsyncGenerator<Uint8Array, Result> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk) {
        yield chunk;
        continue;
      }
      if (this.outcome) {
        if ("error" in this.outcome) throw this.outcome.error;
        return this.outcome.result;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

export class PackWorkers implements PackWork {
  private readonly pool: WorkerPool<HeldPacks>;
  private readonly codec: Codec;

  constructor(private readonly options: PackWorkersOptions) {
    this.codec = options.codec ?? defaultCodec;
    this.pool = new WorkerPool({
      url: options.url ?? packWorkerUrl(),
      size: options.size,
      queueLimit: options.queueLimit,
      observer: options.observer,
      initialState: () => ({ names: new Map(), bytes: 0 }),
    });
  }

  /**
   * The protocol's PackJobRunner. A repository with objects outside its packs (none in the
   * server, whose writes are packed before they commit) is packed on this thread.
   */
  readonly writePack: PackJobRunner = (snapshot: RepositorySnapshot, job: PackJob) => {
    const { packs, unpackedCount } = snapshot.objects;
    if (!packs || unpackedCount !== 0) return runPackJob(snapshot, job, this.codec);
    const stream = new ChunkStream<SentPack>();
    const learn = packs.filter((file) => knownPackReferences(file) === undefined).map((file) => file.checksum);
    this.pool.submit({
      message: (worker) => this.message(worker, packs, { kind: "upload-pack", head: snapshot.head, refs: snapshot.refs, job, learn }),
      onChunk: (bytes) => stream.push(bytes),
      onDone: (result) => {
        const { sent, references } = result as UploadedPack;
        for (const { name, flags } of references) {
          const file = packs.find((candidate) => candidate.checksum === name);
          if (file) rememberPackReferences(file, flags);
        }
        stream.end({ result: sent });
      },
      onFailed: (error, reply) => stream.end({ error: errorFrom(error, reply) }),
    });
    return stream.read();
  };

  async receive(repository: ObjectDatabase, pack: Uint8Array, limits?: Partial<PackLimits>): Promise<IncomingObjects> {
    if (pack.length <= (this.options.smallReceivedPackBytes ?? SMALL_RECEIVED_PACK_BYTES)) return receivePack(repository, pack, this.codec, limits);
    const received = (await this.run(repository.packs, { kind: "receive-pack", pack, limits }, transferOf(pack))) as ReceivedPack;
    if (!received.pack) return { dangling: received.dangling };
    const loaded = this.open(received.pack, repository);
    rememberPackReferences(loaded.file, received.pack.references);
    return { pack: loaded, dangling: received.dangling };
  }

  async merge(repository: ObjectDatabase, sources: readonly PackFile[], youngPacks: ReadonlySet<PackFile>, tips: readonly Oid[]): Promise<MergedObjects> {
    const young = [...youngPacks].map((file) => file.checksum);
    // Compaction runs in the background, once per repository at most: it waits whatever the queue.
    // In the repository's order (newest first), which decides the copy of an object stored twice that is reused.
    const packs = repository.packs.filter((file) => sources.includes(file));
    const merged = (await this.run(packs, { kind: "merge-packs", young, tips: [...tips] }, [], true)) as MergedPack;
    return { pack: merged.pack && this.open(merged.pack, repository), droppedObjects: merged.droppedObjects };
  }

  close(): void {
    this.pool.close();
  }

  private open(made: MadePack, repository: ObjectDatabase) {
    return openPack(made.name, made.pack, made.index, this.codec, repository.cache);
  }

  private message(worker: PoolWorker<HeldPacks>, packs: readonly PackFile[], job: DistributiveOmit<PackWorkerJob, "packs" | "forget">, transfer: Bun.Transferable[] = []) {
    return { data: { ...job, ...packRefs(worker, packs, this.options.heldBytesPerWorker) }, transfer };
  }

  private run(packs: readonly PackFile[], job: DistributiveOmit<PackWorkerJob, "packs" | "forget">, transfer: Bun.Transferable[], unbounded = false): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pool.submit({
        message: (worker) => this.message(worker, packs, job, transfer),
        onChunk: () => {},
        onDone: resolve,
        onFailed: (error, reply) => reject(errorFrom(error, reply)),
        unbounded,
      });
    });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
