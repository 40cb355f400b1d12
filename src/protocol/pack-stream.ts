import { concatBytes } from "../git/bytes.ts";
import type { Codec } from "../git/codec/codec.ts";
import { GitError } from "../git/errors.ts";
import type { Oid } from "../git/oid.ts";
import { concatPacks } from "../git/pack/output/concat.ts";
import { writePack, type PackPhase, type PackWriteResult } from "../git/pack/output/index.ts";
import type { PackFile } from "../git/pack/packfile.ts";
import { defaultCodec } from "../git/codec/index.ts";
import type { PackObjectSpec } from "../git/pack/types.ts";
import { encodeSideBand, FLUSH_PKT, SIDE_BAND_64K_MAX_DATA, SIDE_BAND_DATA, SIDE_BAND_ERROR, SIDE_BAND_PROGRESS, sideBandPieces } from "../git/pktline/index.ts";
import type { CachedPack } from "./clone-cache.ts";
import type { RepositorySnapshot } from "./snapshot.ts";

/** What to pack and how to send it. */
export interface PackPlan {
  specs: PackObjectSpec[];
  /** Objects the client has that deltas may use as bases in a thin pack. */
  thinBases: ReadonlyArray<Oid | PackObjectSpec>;
  /** Largest side-band data payload; 0 sends the bare pack. */
  sideBand: number;
  progress: boolean;
  ofsDelta: boolean;
  thin: boolean;
  /** A full clone's pack written before for the same tips: sent as it is. */
  cached?: CachedPack;
  /** A full clone of every object of these packs: their entries are copied (concatPacks). */
  wholePacks?: readonly PackFile[];
  /** A full clone's cache key: the pack written now is remembered under it. */
  cloneKey?: string;
}

/** Progress titles as git's pack-objects prints them; the client shows them after "remote: ". */
const PHASE_TITLES: Partial<Record<PackPhase, string>> = { counting: "Counting objects", compressing: "Compressing objects" };

/**
 * git's progress lines (progress.c): `Title:  42% (21/50)\r` while running, then
 * `Title: 100% (50/50), done.\n`. One line per percent step at most, whatever the object count.
 */
class ProgressLines {
  private readonly lines: string[] = [];
  private current?: { title: string; done: number; total: number; percent: number };

  report(phase: PackPhase, done: number, total: number): void {
    const title = PHASE_TITLES[phase];
    if (this.current && this.current.title !== title) this.finish();
    if (!title || total === 0) return;
    const percent = Math.floor((done * 100) / total);
    if (this.current?.percent === percent) {
      this.current.done = done;
      return;
    }
    this.current = { title, done, total, percent };
    if (done < total) this.lines.push(`${title}: ${String(percent).padStart(3)}% (${done}/${total})\r`);
  }

  /** Ends the running phase with its `, done.` line. */
  finish(): void {
    const current = this.current;
    if (!current) return;
    this.lines.push(`${current.title}: 100% (${current.total}/${current.total}), done.\n`);
    this.current = undefined;
  }

  add(line: string): void {
    this.lines.push(line);
  }

  /** The lines gathered since the last call. */
  take(): string {
    return this.lines.splice(0).join("");
  }
}

function totalLine(result: PackWriteResult): string {
  const deltas = result.reusedDeltas + result.freshDeltas;
  const reused = result.reusedObjects + result.reusedDeltas;
  return `Total ${result.objectCount} (delta ${deltas}), reused ${reused} (delta ${result.reusedDeltas}), pack-reused 0\n`;
}

/** What sending a pack came to: its object count (undefined when packing failed), and a full clone's pack to cache. */
export interface SentPack {
  objectCount?: number;
  /** The pack written for a plan with a cloneKey, for the caller to remember (rememberClonePack). */
  clonePack?: { key: string; pack: CachedPack };
}

/** A pack made before the request (a cached clone pack, or stored packs copied): its size is known up front. */
interface PreparedPack {
  objectCount: number;
  deltas: number;
  chunks: Iterable<Uint8Array>;
}

/** Side-band frames are built a slice at a time, so a large cached pack still streams with backpressure. */
const CACHED_SLICE_BYTES = 1024 * 1024;

function cachedChunks(bytes: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += CACHED_SLICE_BYTES) chunks.push(bytes.subarray(offset, offset + CACHED_SLICE_BYTES));
  return chunks;
}

async function* streamPreparedPack(plan: PackPlan, prepared: PreparedPack): AsyncGenerator<Uint8Array, SentPack> {
  const { objectCount, deltas } = prepared;
  if (plan.progress) {
    const lines = `Enumerating objects: ${objectCount}, done.\nTotal ${objectCount} (delta ${deltas}), reused ${objectCount} (delta ${deltas}), pack-reused ${objectCount}\n`;
    yield encodeSideBand(SIDE_BAND_PROGRESS, lines, plan.sideBand);
  }
  try {
    for (const chunk of prepared.chunks) {
      if (plan.sideBand === 0) yield chunk;
      // With side-band-64k a piece per 64 KiB costs less than a copy; 1000-byte packets would not.
      else if (plan.sideBand === SIDE_BAND_64K_MAX_DATA) yield* sideBandPieces(SIDE_BAND_DATA, chunk, plan.sideBand);
      else yield encodeSideBand(SIDE_BAND_DATA, chunk, plan.sideBand);
    }
  } catch (error) {
    if (plan.sideBand === 0 || !(error instanceof GitError)) throw error;
    yield encodeSideBand(SIDE_BAND_ERROR, `upload-pack: ${error.message}\n`, plan.sideBand);
    return {};
  }
  if (plan.sideBand > 0) yield FLUSH_PKT;
  return { objectCount };
}

/**
 * The pack as the client receives it: multiplexed on side-band 1 with progress on band 2 and
 * a closing flush (gitprotocol-pack, "Packfile Data"), or bare. A failure while packing ends
 * the stream with its message on band 3; without side-band there is no way to say it, so the
 * stream errors and the client sees a truncated pack.
 */
export async function* streamPack(snapshot: RepositorySnapshot, plan: PackPlan, codec?: Codec): AsyncGenerator<Uint8Array, SentPack> {
  if (plan.cached) {
    const { objectCount, deltas, bytes } = plan.cached;
    return yield* streamPreparedPack(plan, { objectCount, deltas, chunks: cachedChunks(bytes) });
  }
  if (plan.wholePacks) {
    const pack = concatPacks(plan.wholePacks, codec ?? defaultCodec);
    return yield* streamPreparedPack(plan, { objectCount: pack.objectCount, deltas: pack.deltaCount, chunks: pack.chunks() });
  }
  const written: Uint8Array[] | undefined = plan.cloneKey === undefined ? undefined : [];
  const progress = new ProgressLines();
  const frame = (channel: 1 | 2 | 3, data: Uint8Array | string) => encodeSideBand(channel, data, plan.sideBand);
  const pendingProgress = function* () {
    const text = progress.take();
    if (plan.progress && text !== "") yield frame(SIDE_BAND_PROGRESS, text);
  };
  progress.add(`Enumerating objects: ${plan.specs.length}, done.\n`);
  const writer = writePack(plan.specs, snapshot.objects, {
    codec,
    ofsDelta: plan.ofsDelta,
    thin: plan.thin,
    thinBases: plan.thinBases,
    onProgress: (phase, done, total) => progress.report(phase, done, total),
  });
  yield* pendingProgress();
  let sent: SentPack;
  try {
    for (;;) {
      const next = await writer.next();
      if (next.done) {
        const { objectCount, reusedDeltas, freshDeltas } = next.value;
        progress.finish();
        progress.add(totalLine(next.value));
        sent = { objectCount };
        if (written && plan.cloneKey !== undefined) {
          sent.clonePack = { key: plan.cloneKey, pack: { bytes: concatBytes(written), objectCount, deltas: reusedDeltas + freshDeltas } };
        }
        break;
      }
      written?.push(next.value);
      yield* pendingProgress();
      yield plan.sideBand > 0 ? frame(SIDE_BAND_DATA, next.value) : next.value;
    }
  } catch (error) {
    if (plan.sideBand === 0 || !(error instanceof GitError)) throw error;
    yield frame(SIDE_BAND_ERROR, `upload-pack: ${error.message}\n`);
    return {};
  }
  yield* pendingProgress();
  if (plan.sideBand > 0) yield FLUSH_PKT;
  return sent;
}
