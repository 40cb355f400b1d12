import { LimitExceededError } from "../git/errors.ts";
import { isOid, OID_HEX_LENGTH, type Oid } from "../git/oid.ts";
import { encodeSideBand, PktLineBuilder, PktLineReader, pktLineText, SIDE_BAND_DATA, SIDE_BAND_PROGRESS } from "../git/pktline/index.ts";
import type { RefUpdate, RefUpdateStatus } from "../git/refname.ts";
import { AGENT } from "./agent.ts";
import { ProtocolError } from "./errors.ts";

/**
 * The server side of `git push` over smart HTTP (gitprotocol-pack, "Pushing Data To a Server";
 * gitprotocol-http, "Smart Service git-receive-pack"). One POST carries the whole exchange: the
 * update requests, optional push options, then the pack. This module parses that body and
 * frames the report; what the updates do is the caller's `PushHandler`.
 */

/** What receive-pack advertises after the first ref (gitprotocol-capabilities). */
export const RECEIVE_PACK_CAPABILITIES: readonly string[] = [
  "report-status",
  "report-status-v2",
  "delete-refs",
  "side-band-64k",
  "quiet",
  "atomic",
  "ofs-delta",
  "push-options",
  "object-format=sha1",
  `agent=${AGENT}`,
];

/** More update commands than this in one push is refused before anything is parsed further. */
export const MAX_PUSH_COMMANDS = 10_000;

/** The capabilities a client asked for on its first command line, as far as they matter here. */
export interface ReceivePackCapabilities {
  reportStatus: boolean;
  sideBand64k: boolean;
  atomic: boolean;
  pushOptions: boolean;
  quiet: boolean;
  /** The client's `agent=` value, for logs. */
  agent?: string;
}

/** A parsed receive-pack request body. */
export interface ReceivePackRequest {
  capabilities: ReceivePackCapabilities;
  updates: RefUpdate[];
  pushOptions: string[];
  /** The client's shallow boundary (a push from a shallow clone announces it). */
  shallow: Oid[];
  /** The pack after the commands; undefined when the body ends there (delete-only pushes). */
  pack?: Uint8Array;
}

/** What the push handler is asked to do: the wire request without its framing details. */
export interface PushRequest {
  updates: RefUpdate[];
  pack?: Uint8Array;
  atomic: boolean;
  pushOptions: string[];
}

/** What the push handler answers: one status per update, in request order. */
export interface PushOutcome {
  /** Why the pack could not be unpacked; every update then fails. */
  unpackError?: string;
  statuses: readonly RefUpdateStatus[];
  /** Lines for the user ("remote: …"), sent on side-band 2 when the client multiplexes. */
  messages?: readonly string[];
}

export type PushHandler = (request: PushRequest) => Promise<PushOutcome>;

const SHALLOW_PREFIX = "shallow ";
const MISSING_OBJECTS = "missing necessary objects";
const utf8 = new TextDecoder("utf-8", { fatal: true });
const ascii = new TextDecoder("latin1");

function protocolError(message: string): ProtocolError {
  return new ProtocolError("receive-pack.protocol", `protocol error: ${message}`);
}

function parseCapabilities(text: string): ReceivePackCapabilities {
  const capabilities: ReceivePackCapabilities = { reportStatus: false, sideBand64k: false, atomic: false, pushOptions: false, quiet: false };
  for (const capability of text.split(" ")) {
    const [name, value] = capability.split("=", 2);
    switch (name) {
      case "report-status":
      case "report-status-v2":
        capabilities.reportStatus = true;
        break;
      case "side-band-64k":
        capabilities.sideBand64k = true;
        break;
      case "atomic":
        capabilities.atomic = true;
        break;
      case "push-options":
        capabilities.pushOptions = true;
        break;
      case "quiet":
        capabilities.quiet = true;
        break;
      case "agent":
        capabilities.agent = value;
        break;
      case "object-format":
        if (value !== "sha1") throw protocolError(`unsupported object-format ${JSON.stringify(value)}`);
        break;
      // Anything else (delete-refs, ofs-delta, session-id, ...) needs no action or is unknown: ignored, as git does.
    }
  }
  return capabilities;
}

function parseOid(text: string, what: string): Oid {
  const oid = text.toLowerCase();
  if (!isOid(oid)) throw protocolError(`bad ${what} object id ${JSON.stringify(text)}`);
  return oid;
}

/** `old SP new SP refname`: the ids are at fixed positions, the name is the rest of the line. */
function parseUpdate(line: Uint8Array): RefUpdate {
  const nameStart = 2 * OID_HEX_LENGTH + 2;
  const end = line[line.length - 1] === 0x0a ? line.length - 1 : line.length;
  if (end <= nameStart || line[OID_HEX_LENGTH] !== 0x20 || line[nameStart - 1] !== 0x20) {
    throw protocolError("expected old/new/ref");
  }
  const ids = ascii.decode(line.subarray(0, nameStart - 1));
  let ref: string;
  try {
    ref = utf8.decode(line.subarray(nameStart, end));
  } catch {
    throw protocolError("ref name is not UTF-8");
  }
  return { oldOid: parseOid(ids.slice(0, OID_HEX_LENGTH), "old"), newOid: parseOid(ids.slice(OID_HEX_LENGTH + 1), "new"), ref };
}

/**
 * Parses a receive-pack request body. Returns undefined for a body without commands: the
 * `0000` probe a client sends before a chunked upload. Malformed framing throws ProtocolError
 * (or CorruptDataError from the pkt-line scanner); more than MAX_PUSH_COMMANDS commands throws
 * LimitExceededError.
 */
export function parseReceivePackRequest(body: Uint8Array): ReceivePackRequest | undefined {
  if (body.length === 0) return undefined;
  const reader = new PktLineReader(body);
  const shallow: Oid[] = [];
  const updates: RefUpdate[] = [];
  let capabilities: ReceivePackCapabilities | undefined;
  for (let packet = reader.next(); packet.kind !== "flush"; packet = reader.next()) {
    if (packet.kind !== "data") throw protocolError(`unexpected ${packet.kind} packet`);
    let line = packet.payload;
    if (capabilities === undefined && startsWithText(line, SHALLOW_PREFIX)) {
      shallow.push(parseOid(pktLineText(line).slice(SHALLOW_PREFIX.length), "shallow"));
      continue;
    }
    if (capabilities === undefined) {
      const nul = line.indexOf(0);
      capabilities = parseCapabilities(nul < 0 ? "" : pktLineText(line.subarray(nul + 1)));
      if (nul >= 0) line = line.subarray(0, nul);
    }
    if (updates.length === MAX_PUSH_COMMANDS) {
      throw new LimitExceededError("receive-pack.commands", `more than ${MAX_PUSH_COMMANDS} ref updates in one push`);
    }
    updates.push(parseUpdate(line));
  }
  if (capabilities === undefined) {
    if (shallow.length > 0) throw protocolError("shallow lines without commands");
    return undefined;
  }
  const pushOptions: string[] = [];
  if (capabilities.pushOptions) {
    for (let option = reader.readTextLine(); option !== undefined; option = reader.readTextLine()) pushOptions.push(option);
  }
  const pack = reader.atEnd ? undefined : body.subarray(reader.offset);
  return { capabilities, updates, pushOptions, shallow, pack };
}

function startsWithText(bytes: Uint8Array, prefix: string): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix.charCodeAt(i)) return false;
  return true;
}

/** A reason as one report line can carry it: no line breaks. */
function singleLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ").trim();
}

/**
 * Frames the answer: band-2 messages, then the report-status lines (`unpack ok|<reason>`, then
 * `ok <ref>` / `ng <ref> <reason>`, then a flush), nested in band 1 when the client asked for
 * side-band-64k, then the flush that ends the multiplexed stream. report-status-v2 needs no
 * extra lines here: its `option` lines only describe refs a proc-receive hook rewrote.
 */
export function encodeReceivePackResponse(capabilities: ReceivePackCapabilities, outcome: PushOutcome): Uint8Array {
  const response = new PktLineBuilder();
  if (capabilities.sideBand64k) {
    for (const message of outcome.messages ?? []) response.raw(encodeSideBand(SIDE_BAND_PROGRESS, `${singleLine(message)}\n`));
  }
  if (capabilities.reportStatus) {
    const report = new PktLineBuilder().text(outcome.unpackError === undefined ? "unpack ok" : `unpack ${singleLine(outcome.unpackError)}`);
    for (const status of outcome.statuses) report.text(status.ok ? `ok ${status.ref}` : `ng ${status.ref} ${singleLine(status.reason)}`);
    report.flush();
    if (capabilities.sideBand64k) response.raw(encodeSideBand(SIDE_BAND_DATA, report.toBytes()));
    else response.raw(report.toBytes());
  }
  if (capabilities.sideBand64k) response.flush();
  return response.toBytes();
}

/**
 * git's receive-pack refuses a push that would need the client's shallow boundary
 * (receive.shallowUpdate is off by default). Here that shows as missing objects, so a push
 * from a shallow clone whose objects connect to the repository is accepted, and one that does
 * not is told why in git's words.
 */
function explainShallow(outcome: PushOutcome, shallow: readonly Oid[]): PushOutcome {
  if (shallow.length === 0) return outcome;
  const statuses = outcome.statuses.map((status): RefUpdateStatus =>
    !status.ok && status.reason === MISSING_OBJECTS ? { ref: status.ref, ok: false, reason: "shallow update not allowed" } : status,
  );
  return { ...outcome, statuses };
}

/**
 * Handles one receive-pack POST body and returns the response body. The probe body (`0000`)
 * answers nothing. Framing errors throw typed errors (an HTTP layer answers 400).
 */
export async function handleReceivePack(body: Uint8Array, push: PushHandler): Promise<Uint8Array> {
  const request = parseReceivePackRequest(body);
  if (request === undefined) return new Uint8Array(0);
  const outcome = await push({ updates: request.updates, pack: request.pack, atomic: request.capabilities.atomic, pushOptions: request.pushOptions });
  return encodeReceivePackResponse(request.capabilities, explainShallow(outcome, request.shallow));
}
