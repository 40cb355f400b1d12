import type { Codec } from "../git/codec/codec.ts";
import type { Oid } from "../git/oid.ts";
import { knownPackReferences } from "../git/pack/references.ts";
import type { ShallowUpdate } from "../git/walk/index.ts";
import { cachedClonePack, clonePackKey } from "./clone-cache.ts";
import { streamPack, type PackPlan, type SentPack } from "./pack-stream.ts";
import { selectObjects, tagTips, type ResolvedFetch } from "./selection.ts";
import type { RepositorySnapshot } from "./snapshot.ts";
import { wholePacksFor } from "./whole-packs.ts";

/**
 * The pack of one fetch, as negotiation left it: plain data (ids, strings, numbers), so that it
 * can be handed to another thread as it is.
 */
export interface PackRequest {
  fetch: ResolvedFetch;
  shallow: ShallowUpdate;
  /** The client's haves that we hold. */
  common: Oid[];
}

/**
 * A pack to make and frame: the request, and the plan when the request thread walked already
 * (a walk's plan: `specs` and `thinBases`, never `cached` or `wholePacks`, which cannot cross threads).
 */
export interface PackJob {
  request: PackRequest;
  plan?: PackPlan;
}

/**
 * Makes a pack job's pack elsewhere (a worker thread), with the same framed chunks and result as
 * runPackJob. Throws, before returning, when it cannot take the job now (a full queue).
 */
export type PackJobRunner = (snapshot: RepositorySnapshot, job: PackJob) => AsyncGenerator<Uint8Array, SentPack>;

/** A fetch's pack up to this many objects is written on the request thread: handing it over costs more than it saves. */
export const SMALL_PACK_OBJECTS = 256;

/**
 * A full clone sent as whole stored packs of at most this many bytes is framed on the request
 * thread when the packs' reference flags are known (a push here left them): what remains is a
 * scan of those flags, views of the stored bytes and the SHA-1 of at most this much (under a
 * millisecond), less than handing the clone to a worker, whose own copy of the code runs cold.
 */
export const SMALL_WHOLE_PACK_BYTES = 1024 * 1024;

export function isDeepening(fetch: ResolvedFetch): boolean {
  const { request } = fetch;
  return request.depth > 0 || request.deepenSince !== undefined || request.deepenNot.length > 0;
}

function isFullClone({ fetch, common }: PackRequest): boolean {
  return common.length === 0 && fetch.shallows.length === 0 && !isDeepening(fetch) && fetch.request.filter === undefined;
}

function framing({ request }: ResolvedFetch): Pick<PackPlan, "sideBand" | "progress" | "ofsDelta" | "thin"> {
  return { sideBand: request.sideBand, progress: request.sideBand > 0 && !request.noProgress, ofsDelta: request.ofsDelta, thin: request.thinPack };
}

function cloneKeyOf(snapshot: RepositorySnapshot, { fetch }: PackRequest): string {
  return clonePackKey(fetch.wants, fetch.request.includeTag ? tagTips(snapshot) : [], fetch.request.ofsDelta);
}

/** A full clone's pack sent before for the same tips, ready to replay; undefined otherwise. */
function cachedPlan(snapshot: RepositorySnapshot, request: PackRequest): PackPlan | undefined {
  if (!isFullClone(request)) return undefined;
  const cached = cachedClonePack(snapshot.objects, cloneKeyOf(snapshot, request));
  return cached && { specs: [], thinBases: [], cached, ...framing(request.fetch) };
}

/** What to send and how: a cached clone pack, whole stored packs, or the objects a walk selects. */
function packPlan(snapshot: RepositorySnapshot, request: PackRequest): PackPlan {
  const { fetch, shallow, common } = request;
  if (!isFullClone(request)) return { ...selectObjects(snapshot, fetch, shallow, common), ...framing(fetch) };
  const ready = cachedPlan(snapshot, request) ?? wholePackPlan(snapshot, request);
  if (ready) return ready;
  return { ...selectObjects(snapshot, fetch, shallow, common), cloneKey: cloneKeyOf(snapshot, request), ...framing(fetch) };
}

/** A full clone's stored packs sent as they are, when they hold exactly what it wants (see wholePacksFor). */
function wholePackPlan(snapshot: RepositorySnapshot, request: PackRequest): PackPlan | undefined {
  if (!isFullClone(request) || !request.fetch.request.ofsDelta) return undefined;
  const wholePacks = wholePacksFor(snapshot.objects, request.fetch.wants);
  return wholePacks && { specs: [], thinBases: [], wholePacks, ...framing(request.fetch) };
}

/** wholePackPlan for packs of SMALL_WHOLE_PACK_BYTES at most whose reference flags are known; undefined otherwise. */
function smallWholePackPlan(snapshot: RepositorySnapshot, request: PackRequest): PackPlan | undefined {
  let bytes = 0;
  for (const pack of snapshot.objects.packs ?? []) {
    bytes += pack.fileBytes.length;
    if (bytes > SMALL_WHOLE_PACK_BYTES || knownPackReferences(pack) === undefined) return undefined;
  }
  return wholePackPlan(snapshot, request);
}

/** Plans (unless the job brings its plan), makes and frames a pack: what a pack worker runs. */
export function runPackJob(snapshot: RepositorySnapshot, job: PackJob, codec?: Codec): AsyncGenerator<Uint8Array, SentPack> {
  return streamPack(snapshot, job.plan ?? packPlan(snapshot, job.request), codec);
}

/**
 * The framed pack of a fetch, made on this thread when that is cheap — a cached clone replayed, a
 * small clone of whole packs, an incremental fetch of at most SMALL_PACK_OBJECTS objects (its walk
 * is bounded by what the client lacks) — and by `offload` otherwise: clones, and fetches without
 * common commits (shallow or filtered clones), whose walk covers the whole history.
 */
export function packChunks(snapshot: RepositorySnapshot, request: PackRequest, offload: PackJobRunner | undefined, codec?: Codec): AsyncGenerator<Uint8Array, SentPack> {
  if (!offload) return runPackJob(snapshot, { request }, codec);
  const cheap = cachedPlan(snapshot, request) ?? smallWholePackPlan(snapshot, request);
  if (cheap) return streamPack(snapshot, cheap, codec);
  if (request.common.length === 0) return offload(snapshot, { request });
  const plan = packPlan(snapshot, request);
  return plan.specs.length <= SMALL_PACK_OBJECTS ? streamPack(snapshot, plan, codec) : offload(snapshot, { request, plan });
}
