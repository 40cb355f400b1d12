import { isOid, type Oid } from "../git/oid.ts";
import { PktLineReader, SIDE_BAND_64K_MAX_DATA, SIDE_BAND_MAX_DATA } from "../git/pktline/index.ts";
import { ProtocolError } from "./errors.ts";
import type { ObjectFilter } from "../git/walk/filter.ts";
import { INFINITE_DEPTH } from "../git/walk/index.ts";
import { parseFilterSpec } from "./filter.ts";

export type MultiAck = "none" | "multi_ack" | "multi_ack_detailed";

/** A fetch as the client asked for it, in either protocol version (syntax checked, not semantics). */
export interface FetchRequest {
  wants: Oid[];
  /** v2 `want-ref` names (ref-in-want). */
  wantRefs: string[];
  haves: Oid[];
  /** Commits the client's shallow boundary holds. */
  shallows: Oid[];
  /** `deepen N`; 0 when absent. */
  depth: number;
  /** `deepen-since` as seconds since the epoch. */
  deepenSince?: number;
  /** `deepen-not` ref names, resolved against the refs later. */
  deepenNot: string[];
  deepenRelative: boolean;
  filter?: ObjectFilter;
  done: boolean;
  multiAck: MultiAck;
  noDone: boolean;
  thinPack: boolean;
  ofsDelta: boolean;
  /** Largest side-band data payload, or 0 when the pack goes out without side-band. */
  sideBand: number;
  noProgress: boolean;
  includeTag: boolean;
  waitForDone: boolean;
}

/** A v0/v1 request body: the wants section, then the haves up to the flush or `done` ending it. */
export interface V0FetchRequest extends FetchRequest {
  /**
   * "none": the body ended right after the wants (a client reading the shallow list first);
   * "flush": a negotiation round; "done": the client wants the pack.
   */
  ending: "none" | "flush" | "done";
}

function emptyRequest(): FetchRequest {
  return {
    wants: [],
    wantRefs: [],
    haves: [],
    shallows: [],
    depth: 0,
    deepenNot: [],
    deepenRelative: false,
    done: false,
    multiAck: "none",
    noDone: false,
    thinPack: false,
    ofsDelta: false,
    sideBand: 0,
    noProgress: false,
    includeTag: false,
    waitForDone: false,
  };
}

function parseOidArgument(line: string, prefix: string): Oid {
  const oid = line.slice(prefix.length, prefix.length + 40);
  if (!isOid(oid)) throw new ProtocolError("protocol.oid", `expected an object id, got '${line}'`);
  return oid;
}

/** An argument with nothing after the object id. */
function parseExactOidArgument(line: string, prefix: string): Oid {
  const oid = parseOidArgument(line, prefix);
  if (line.length !== prefix.length + 40) throw new ProtocolError("protocol.oid", `expected an object id, got '${line}'`);
  return oid;
}

/** A want or shallow line repeated counts once (git flags the object WANTED / CLIENT_SHALLOW). */
function dedupe(request: FetchRequest): void {
  request.wants = [...new Set(request.wants)];
  request.shallows = [...new Set(request.shallows)];
}

function parseWholeNumber(line: string, prefix: string): number {
  const text = line.slice(prefix.length);
  if (!/^\d{1,15}$/.test(text)) throw new ProtocolError("protocol.argument", `invalid ${prefix.trim()}: ${line}`);
  return Number(text);
}

/**
 * The arguments both versions share: shallow, the deepen family and filter. Returns false for
 * a line that is none of them.
 */
function parseShallowOrFilterArgument(line: string, request: FetchRequest, filterAllowed: boolean): boolean {
  if (line.startsWith("shallow ")) {
    request.shallows.push(parseExactOidArgument(line, "shallow "));
  } else if (line.startsWith("deepen ")) {
    const depth = parseWholeNumber(line, "deepen ");
    if (depth <= 0) throw new ProtocolError("protocol.argument", `Invalid deepen: ${line}`);
    request.depth = Math.min(depth, INFINITE_DEPTH);
  } else if (line.startsWith("deepen-since ")) {
    request.deepenSince = parseWholeNumber(line, "deepen-since ");
  } else if (line.startsWith("deepen-not ")) {
    request.deepenNot.push(line.slice("deepen-not ".length));
  } else if (line.startsWith("filter ")) {
    if (!filterAllowed) throw new ProtocolError("protocol.filter", "filtering capability not negotiated");
    if (request.filter) throw new ProtocolError("protocol.filter", "multiple filter-specs cannot be combined");
    request.filter = parseFilterSpec(line.slice("filter ".length));
  } else {
    return false;
  }
  return true;
}

/** The capabilities a v0 client lists after its first want (gitprotocol-capabilities). */
function applyV0Features(features: readonly string[], request: FetchRequest): void {
  const has = (name: string) => features.includes(name);
  if (has("multi_ack_detailed")) request.multiAck = "multi_ack_detailed";
  else if (has("multi_ack")) request.multiAck = "multi_ack";
  if (has("side-band-64k")) request.sideBand = SIDE_BAND_64K_MAX_DATA;
  else if (has("side-band")) request.sideBand = SIDE_BAND_MAX_DATA;
  request.noDone ||= has("no-done");
  request.thinPack ||= has("thin-pack");
  request.ofsDelta ||= has("ofs-delta");
  request.noProgress ||= has("no-progress");
  request.includeTag ||= has("include-tag");
  request.deepenRelative ||= has("deepen-relative");
}

/**
 * Parses a v0/v1 upload-pack request (gitprotocol-pack, "Packfile Negotiation"): wants with
 * capabilities, shallow and deepen lines and a filter, a flush, then haves up to a flush or
 * `done`. Anything after that ending is ignored, as git's stateless upload-pack does.
 */
export function parseV0FetchRequest(body: Uint8Array): V0FetchRequest {
  const reader = new PktLineReader(body);
  const request = emptyRequest();
  let filterCapability = false;
  for (let line = reader.readTextLine(); line !== undefined; line = reader.readTextLine()) {
    if (line.startsWith("want ")) {
      request.wants.push(parseOidArgument(line, "want "));
      const rest = line.slice("want ".length + 40);
      if (rest !== "" && !rest.startsWith(" ")) throw new ProtocolError("protocol.oid", `expected an object id, got '${line}'`);
      const features = rest.split(" ").filter((feature) => feature !== "");
      applyV0Features(features, request);
      filterCapability ||= features.includes("filter");
    } else if (!parseShallowOrFilterArgument(line, request, filterCapability)) {
      throw new ProtocolError("protocol.argument", `protocol error, expected to get object ID, not '${line}'`);
    }
  }
  dedupe(request);
  if (reader.atEnd) return { ...request, ending: "none" };
  for (;;) {
    // End of input in the haves counts as a flush (git's reader reports both as "not a line").
    const line = reader.atEnd ? undefined : reader.readTextLine();
    if (line === undefined) return { ...request, ending: "flush" };
    if (line === "done") return { ...request, done: true, ending: "done" };
    if (!line.startsWith("have ")) throw new ProtocolError("protocol.argument", `expected SHA1 list, got '${line}'`);
    request.haves.push(parseExactOidArgument(line, "have "));
  }
}

const V2_FLAGS = new Map<string, (request: FetchRequest) => void>([
  ["thin-pack", (r) => (r.thinPack = true)],
  ["ofs-delta", (r) => (r.ofsDelta = true)],
  ["no-progress", (r) => (r.noProgress = true)],
  ["include-tag", (r) => (r.includeTag = true)],
  ["done", (r) => (r.done = true)],
  ["wait-for-done", (r) => (r.waitForDone = true)],
  ["deepen-relative", (r) => (r.deepenRelative = true)],
]);

/** Parses the arguments of a v2 `fetch` (gitprotocol-v2, "fetch"). The pack always uses side-band-64k. */
export function parseV2FetchArgs(args: readonly string[]): FetchRequest {
  const request = emptyRequest();
  request.sideBand = SIDE_BAND_64K_MAX_DATA;
  for (const line of args) {
    const flag = V2_FLAGS.get(line);
    if (flag) flag(request);
    else if (line.startsWith("want ")) request.wants.push(parseExactOidArgument(line, "want "));
    else if (line.startsWith("want-ref ")) {
      const name = line.slice("want-ref ".length);
      if (request.wantRefs.includes(name)) throw new ProtocolError("protocol.argument", `duplicate want-ref ${name}`);
      request.wantRefs.push(name);
    } else if (line.startsWith("have ")) request.haves.push(parseExactOidArgument(line, "have "));
    else if (!parseShallowOrFilterArgument(line, request, true)) {
      throw new ProtocolError("protocol.argument", `unexpected line: '${line}'`);
    }
  }
  dedupe(request);
  return request;
}
