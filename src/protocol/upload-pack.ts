import type { Codec } from "../git/codec/codec.ts";
import { GitError } from "../git/errors.ts";
import type { Oid } from "../git/oid.ts";
import { PktLineBuilder } from "../git/pktline/index.ts";
import type { ShallowUpdate } from "../git/walk/index.ts";
import { ProtocolError } from "./errors.ts";
import { parseV0FetchRequest, parseV2FetchArgs, type FetchRequest, type V0FetchRequest } from "./fetch-request.ts";
import { lsRefs } from "./ls-refs.ts";
import { knownAnswer, rememberAnswer } from "./answers.ts";
import type { SentPack } from "./pack-stream.ts";
import { HaveResult, HaveSet } from "./negotiation.ts";
import { rememberClonePack } from "./clone-cache.ts";
import { isDeepening, packChunks, type PackJobRunner, type PackRequest } from "./pack-job.ts";
import { refTips, unreachableFrom } from "./reachability.ts";
import { shallowUpdate, type ResolvedFetch } from "./selection.ts";
import type { RepositorySnapshot } from "./snapshot.ts";
import { parseV2Request } from "./v2-request.ts";
import type { ProtocolVersion } from "./version.ts";

export interface UploadPackOptions {
  protocolVersion: ProtocolVersion;
  codec?: Codec;
  /** Told the object count of each pack once it has been sent in full (for the server's metrics). */
  onPackSent?: (objects: number) => void;
  /** Where packs that are not small are made (a pool of worker threads); absent, on this thread. */
  offload?: PackJobRunner;
}

/** What a request produces: the negotiation lines, then (when the client gets one) the pack. */
interface UploadPackResponse {
  head: Uint8Array;
  pack?: PackRequest;
}

const EMPTY_RESPONSE: UploadPackResponse = { head: new Uint8Array(0) };

/** An `ERR` packet (gitprotocol-pack, "Pkt-line Format"): the client shows it and stops. */
export function errorPacket(message: string): Uint8Array {
  return new PktLineBuilder().text(`ERR ${message}`).toBytes();
}

/** A `want-ref` names a ref by its full name; HEAD is one too (git's refs_read_ref). */
function resolveWantRef(snapshot: RepositorySnapshot, name: string): Oid {
  const oid = name === "HEAD" && snapshot.head !== undefined ? snapshot.refs.get(snapshot.head) : snapshot.refs.get(name);
  if (oid === undefined) throw new ProtocolError("protocol.want-ref", `unknown ref ${name}`);
  return oid;
}

/** `deepen-not` takes a ref name as the user typed it; git expands it as rev-parse would (expand_ref). */
function resolveDeepenNot(snapshot: RepositorySnapshot, name: string): Oid {
  const candidates = [name, `refs/${name}`, `refs/tags/${name}`, `refs/heads/${name}`, `refs/remotes/${name}`, `refs/remotes/${name}/HEAD`];
  const found = candidates.filter((candidate) => snapshot.refs.has(candidate));
  if (name === "HEAD" && snapshot.head !== undefined && snapshot.refs.has(snapshot.head)) found.push(snapshot.head);
  if (found.length > 1) throw new ProtocolError("protocol.deepen-not", `ambiguous deepen-not: ${name}`);
  if (found.length === 0) throw new ProtocolError("protocol.deepen-not", `deepen-not is not a ref: ${name}`);
  return snapshot.refs.get(found[0])!;
}

/**
 * Every want must be an object we hold that a ref reaches (allow-tip-sha1-in-want and
 * allow-reachable-sha1-in-want; git's check_non_tip). Over HTTP the advertisement the client
 * chose from may be older than this snapshot, so wants are re-checked against it. Protocol v2
 * is held to the same rule: nothing unreachable (say, a rewritten secret) is ever served.
 */
function checkWants(snapshot: RepositorySnapshot, wants: readonly Oid[]): void {
  for (const want of wants) {
    if (!snapshot.objects.hasObject(want)) throw new ProtocolError("protocol.not-our-ref", `upload-pack: not our ref ${want}`);
  }
  const tips = refTips(snapshot);
  const unreachable = unreachableFrom(snapshot, wants.filter((want) => !tips.has(want)));
  if (unreachable.length > 0) throw new ProtocolError("protocol.not-our-ref", `upload-pack: not our ref ${unreachable[0]}`);
}

/** The client's shallow commits that we hold; each must be a commit (git's process_shallow). */
function knownShallows(snapshot: RepositorySnapshot, shallows: readonly Oid[]): Oid[] {
  return shallows.filter((oid) => {
    const object = snapshot.objects.readObject(oid);
    if (object && object.type !== "commit") throw new ProtocolError("protocol.shallow", `invalid shallow object ${oid}`);
    return object !== undefined;
  });
}

/** Checks a request against the snapshot and resolves its names; throws ProtocolError. */
function resolveRequest(snapshot: RepositorySnapshot, request: FetchRequest): ResolvedFetch {
  const wants = [...request.wants];
  for (const name of request.wantRefs) {
    const oid = resolveWantRef(snapshot, name);
    if (!wants.includes(oid)) wants.push(oid);
  }
  checkWants(snapshot, wants);
  return {
    request,
    wants,
    shallows: knownShallows(snapshot, request.shallows),
    deepenNot: request.deepenNot.map((name) => resolveDeepenNot(snapshot, name)),
  };
}

function writeShallowLines(out: PktLineBuilder, shallow: ShallowUpdate): void {
  for (const oid of shallow.shallow) out.text(`shallow ${oid}`);
  for (const oid of shallow.unshallow) out.text(`unshallow ${oid}`);
}

/**
 * v0/v1 over stateless HTTP (gitprotocol-pack, "Packfile Negotiation"; git's upload-pack.c,
 * receive_needs and get_common_commits): the shallow list when deepening, then one ACK/NAK
 * round, and the pack once the client said `done` or (no-done) the server is ready.
 */
function respondV0(snapshot: RepositorySnapshot, request: V0FetchRequest): UploadPackResponse {
  if (request.wants.length === 0) return EMPTY_RESPONSE;
  const fetch = resolveRequest(snapshot, request);
  const out = new PktLineBuilder();
  const shallow = shallowUpdate(snapshot, fetch);
  if (isDeepening(fetch)) {
    writeShallowLines(out, shallow);
    out.flush();
  }
  if (request.ending === "none") return { head: out.toBytes() };

  const detailed = request.multiAck === "multi_ack_detailed";
  const haves = new HaveSet(snapshot.objects);
  let lastCommon: Oid | undefined;
  let gotOther = false;
  let sentReady = false;
  for (const have of request.haves) {
    if (haves.add(have) === HaveResult.Unknown) {
      gotOther = true;
      if (request.multiAck !== "none" && haves.okToGiveUp(fetch.wants)) {
        sentReady ||= detailed;
        out.text(detailed ? `ACK ${have} ready` : `ACK ${have} continue`);
      }
      continue;
    }
    lastCommon = have;
    if (detailed) out.text(`ACK ${have} common`);
    else if (request.multiAck === "multi_ack") out.text(`ACK ${have} continue`);
    // Without multi_ack git acknowledges while exactly one common object is known, which
    // repeats the ACK for a have that is a parent of the first (upload-pack.c, get_common_commits).
    else if (haves.common.length === 1) out.text(`ACK ${have}`);
  }
  if (request.ending === "done") {
    if (haves.common.length === 0) out.text("NAK");
    else if (request.multiAck !== "none") out.text(`ACK ${lastCommon}`);
  } else {
    if (detailed && lastCommon !== undefined && !gotOther && haves.okToGiveUp(fetch.wants)) {
      sentReady = true;
      out.text(`ACK ${lastCommon} ready`);
    }
    if (haves.common.length === 0 || request.multiAck !== "none") out.text("NAK");
    if (!(request.noDone && sentReady)) return { head: out.toBytes() };
    out.text(`ACK ${lastCommon}`);
  }
  return { head: out.toBytes(), pack: { fetch, shallow, common: haves.common } };
}

/**
 * v2 `fetch` (gitprotocol-v2, "fetch"; git's upload_pack_v2): an acknowledgments section while
 * negotiating, then shallow-info, wanted-refs and packfile sections separated by delims.
 */
function respondV2Fetch(snapshot: RepositorySnapshot, args: readonly string[]): UploadPackResponse {
  const request = parseV2FetchArgs(args);
  if (request.wants.length === 0 && request.wantRefs.length === 0 && !request.waitForDone) return EMPTY_RESPONSE;
  const fetch = resolveRequest(snapshot, request);
  const haves = new HaveSet(snapshot.objects);
  for (const have of request.haves) haves.add(have);
  const out = new PktLineBuilder();
  if (!request.done && request.haves.length > 0) {
    out.text("acknowledgments");
    if (haves.common.length === 0) out.text("NAK");
    for (const oid of haves.common) out.text(`ACK ${oid}`);
    if (request.waitForDone || !haves.okToGiveUp(fetch.wants)) return { head: out.flush().toBytes() };
    out.text("ready").delim();
  }
  // shallow-info before wanted-refs, as gitprotocol-v2 orders them and git's fetch-pack reads
  // them (git's own upload_pack_v2 writes them the other way round).
  const shallow = shallowUpdate(snapshot, fetch);
  if (isDeepening(fetch) || fetch.shallows.length > 0) {
    out.text("shallow-info");
    writeShallowLines(out, shallow);
    out.delim();
  }
  if (request.wantRefs.length > 0) {
    out.text("wanted-refs");
    for (const name of request.wantRefs) out.text(`${resolveWantRef(snapshot, name)} ${name}`);
    out.delim();
  }
  out.text("packfile");
  return { head: out.toBytes(), pack: { fetch, shallow, common: haves.common } };
}

/** Requests up to this size may be ls-refs requests answered before: a few lines of capabilities and prefixes. */
const MAX_REMEMBERED_REQUEST_BYTES = 1024;
const LATIN1 = new TextDecoder("latin1");

function respond(snapshot: RepositorySnapshot, body: Uint8Array, protocolVersion: ProtocolVersion): UploadPackResponse {
  if (protocolVersion !== 2) return respondV0(snapshot, parseV0FetchRequest(body));
  // An ls-refs request is looked up by its bytes: parsing it again was most of what a repeated one cost.
  const question = body.length <= MAX_REMEMBERED_REQUEST_BYTES ? `v2 request ${LATIN1.decode(body)}` : undefined;
  const known = question === undefined ? undefined : knownAnswer(snapshot, question);
  if (known !== undefined) return { head: known };
  const request = parseV2Request(body);
  if (!request) return EMPTY_RESPONSE;
  if (request.command !== "ls-refs") return respondV2Fetch(snapshot, request.args);
  const listed = lsRefs(snapshot, request.args);
  return { head: question === undefined ? listed : rememberAnswer(snapshot, question, listed) };
}

async function* responseChunks(snapshot: RepositorySnapshot, head: Uint8Array, pack: AsyncGenerator<Uint8Array, SentPack>, options: UploadPackOptions): AsyncGenerator<Uint8Array> {
  if (head.length > 0) yield head;
  const sent = yield* pack;
  if (sent.clonePack) rememberClonePack(snapshot.objects, sent.clonePack.key, sent.clonePack.pack);
  if (sent.objectCount !== undefined) options.onPackSent?.(sent.objectCount);
}

/**
 * Answers one `POST …/git-upload-pack` body (v0/v1, or one v2 command). An answer without a
 * pack (ls-refs, a negotiation round) is plain bytes; one with a pack is a stream, the pack
 * produced while it is sent. A refused request (malformed lines, a want that is not ours, a
 * bad filter) is answered with an `ERR` packet, never an exception; only `offload` may throw,
 * when it cannot take the pack now.
 */
export function uploadPack(snapshot: RepositorySnapshot, body: Uint8Array, options: UploadPackOptions): Uint8Array | ReadableStream<Uint8Array> {
  let response: UploadPackResponse;
  let pack: AsyncGenerator<Uint8Array, SentPack> | undefined;
  try {
    response = respond(snapshot, body, options.protocolVersion);
    if (response.pack) pack = packChunks(snapshot, response.pack, options.offload, options.codec);
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    return errorPacket(error.message);
  }
  if (!pack) return response.head;
  const chunks = responseChunks(snapshot, response.head, pack, options);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
}
