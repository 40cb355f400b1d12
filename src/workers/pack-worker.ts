/**
 * A pack worker thread (see pack-workers.ts): writes fetches' packs, indexes pushed packs and
 * merges packs for compaction, with the same functions the request thread would run, over the
 * packs it holds. One job at a time; every outcome is a reply, never an uncaught error.
 */
import { setPriority } from "node:os";
import { defaultCodec } from "../git/codec/index.ts";
import { decodePackIndex } from "../git/idxfile/index.ts";
import { ObjectCache, ObjectDatabase } from "../git/odb/index.ts";
import { PackFile } from "../git/pack/packfile.ts";
import { knownPackReferences, packReferences, rememberPackReferences } from "../git/pack/references.ts";
import { runPackJob } from "../protocol/pack-job.ts";
import type { LoadedPack } from "../repo/packs.ts";
import { mergeObjects } from "../repo/pack-work.ts";
import { collectionPacer } from "../repo/collection.ts";
import { collectAfterReceive, receivePack } from "../repo/push.ts";
import { describeError, transferOf, type MergedPack, type PackWorkerJob, type ReceivedPack, type UploadedPack } from "./messages.ts";
import type { WorkerReply } from "./pool.ts";

declare const self: Worker;

/**
 * This thread's nice value (Linux gives each thread its own): below the request thread's, so on
 * a busy CPU the scheduler runs the light requests first and the packs in the time left. Where
 * it may not be set, the thread runs at the process's priority.
 */
const WORKER_NICE = 10;
try {
  setPriority(WORKER_NICE);
} catch {
  // Not permitted here: the pool still works, with less priority given to light requests.
}

const codec = defaultCodec;
/** Inflated objects (delta bases above all), shared by every pack this thread holds, as a repository's are. */
const OBJECT_CACHE_BYTES = 32 * 1024 * 1024;
const cache = new ObjectCache(OBJECT_CACHE_BYTES);
const held = new Map<string, PackFile>();

function reply(message: WorkerReply, transfer: Bun.Transferable[] = []): void {
  self.postMessage(message, transfer);
}

/** The job's packs as one object database, opening the ones sent now and forgetting the ones let go. */
function repository(job: PackWorkerJob): ObjectDatabase {
  for (const name of job.forget) {
    const file = held.get(name);
    if (file) cache.evict(file);
    held.delete(name);
  }
  const objects = new ObjectDatabase(codec, { cacheBytes: 0 });
  // addPack puts each pack first: add the oldest first, so the order is the request thread's.
  for (const { name, bytes } of [...job.packs].reverse()) {
    let file = held.get(name);
    if (!file) {
      if (!bytes) throw new Error(`pack ${name} was never sent to this worker`);
      file = new PackFile(bytes.pack, decodePackIndex(bytes.index, codec), codec, cache);
      if (bytes.references) rememberPackReferences(file, bytes.references);
      held.set(name, file);
    }
    objects.addPack(file);
  }
  return objects;
}

/**
 * Bytes of chunks copied for posting between two requests for a collection. The originals (the
 * frames of a clone's pack) are garbage at once, and this thread allocates little else, so the
 * collector ran late: asking every 8 MiB lowered the peak RSS of the large.ts first clone (a
 * 39 MiB pack) from ~240 MiB to ~210 MiB.
 */
const collectPeriodically = collectionPacer(8 * 1024 * 1024);

const BATCH_BYTES = 1024 * 1024;
const BATCH_INTERVAL_MS = 50;

/**
 * Posts a job's chunks in batches, without a copy on the request thread: shared memory travels as
 * it is, anything else as a copy made here and moved (the writer may still hold the original, e.g.
 * to cache it). Each message costs the receiving thread tens of microseconds (measured: 48
 * messages of 64 KiB views, 4.2 ms of its CPU; the same views in 3 messages, 0.15-0.36 ms), so a
 * batch goes once it holds BATCH_BYTES, or when BATCH_INTERVAL_MS have passed since the last one
 * (a slow pack's first bytes and its progress lines do not wait for the rest), and at the end.
 */
class ChunkPoster {
  private parts: Uint8Array[] = [];
  private transfer: ArrayBuffer[] = [];
  private bytes = 0;
  private lastPost = performance.now();

  add(bytes: Uint8Array): void {
    if (bytes.buffer instanceof SharedArrayBuffer) this.parts.push(bytes);
    else {
      collectPeriodically(bytes.length);
      const copy = bytes.slice();
      this.parts.push(copy);
      this.transfer.push(copy.buffer);
    }
    this.bytes += bytes.length;
    if (this.bytes >= BATCH_BYTES || performance.now() - this.lastPost >= BATCH_INTERVAL_MS) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    reply({ kind: "chunks", parts: this.parts }, this.transfer);
    this.parts = [];
    this.transfer = [];
    this.bytes = 0;
    this.lastPost = performance.now();
  }
}

function madePack(pack: LoadedPack) {
  return { name: pack.name, pack: pack.pack, index: pack.index };
}

/** The references this thread knows of the packs named (copied when posted: they stay here too). */
function learnedReferences(names: readonly string[]): UploadedPack["references"] {
  return names.flatMap((name) => {
    const file = held.get(name);
    const flags = file && knownPackReferences(file);
    return flags ? [{ name, flags }] : [];
  });
}

async function run(job: PackWorkerJob): Promise<void> {
  const objects = repository(job);
  switch (job.kind) {
    case "upload-pack": {
      const chunks = runPackJob({ head: job.head, refs: job.refs, objects }, job.job, codec);
      const poster = new ChunkPoster();
      for (let next = await chunks.next(); ; next = await chunks.next()) {
        if (!next.done) {
          poster.add(next.value);
          continue;
        }
        poster.flush();
        const clone = next.value.clonePack?.pack.bytes;
        const result: UploadedPack = { sent: next.value, references: learnedReferences(job.learn) };
        return reply({ kind: "done", result }, clone ? transferOf(clone) : []);
      }
    }
    case "receive-pack": {
      const incoming = receivePack(objects, job.pack, codec, job.limits);
      const pack = incoming.pack && { ...madePack(incoming.pack), references: packReferences(incoming.pack.file) };
      const result: ReceivedPack = { pack, dangling: incoming.dangling };
      reply({ kind: "done", result });
      return collectAfterReceive(job.pack);
    }
    case "merge-packs": {
      const young = new Set(objects.packs.filter((file) => job.young.includes(file.checksum)));
      const merged = await mergeObjects(objects, objects.packs, young, job.tips, codec);
      const result: MergedPack = { pack: merged.pack && madePack(merged.pack), droppedObjects: merged.droppedObjects };
      return reply({ kind: "done", result });
    }
  }
}

self.onmessage = (event: MessageEvent<PackWorkerJob>) => {
  run(event.data).catch((error: unknown) => reply({ kind: "failed", error: describeError(error) }));
};
