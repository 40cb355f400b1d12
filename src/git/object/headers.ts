/**
 * The header block shared by commits and tags: "key SP value" lines, where a line starting
 * with a space continues the previous value (gpgsig, mergetag), then an empty line and the
 * message (git's commit.c read_commit_extra_header_lines; Documentation/gitformat-signature).
 */
import type { Oid } from "../oid.ts";
import { ByteBuilder, fsckError, LF, NUL, readHexOid, SPACE, startsWith } from "./bytes.ts";

/** A header line after the mandatory ones, kept in order. */
export interface ExtraHeader {
  /** Printable ASCII without spaces, e.g. "encoding", "gpgsig", "mergetag". */
  key: string;
  /** Raw bytes; continuation lines are joined with "\n" and lose their leading space. */
  value: Uint8Array;
}

/** The headers after the mandatory ones, and the message after the empty line. */
export interface HeadersAndMessage {
  headers: ExtraHeader[];
  /** Everything after the empty line; null when the object ends without one (git allows it). */
  message: Uint8Array | null;
}

const keyDecoder = new TextDecoder("latin1");
const KEY_PATTERN = /^[\x21-\x7e]+$/;

function isKeyByte(c: number): boolean {
  return c > SPACE && c < 0x7f;
}

/**
 * git's fsck.c verify_headers: the header block ends at the first empty line (or the end of
 * the object, whose last byte must then be a newline) and holds no NUL byte.
 */
export function verifyHeaders(data: Uint8Array): void {
  let lineEnd = data.indexOf(LF);
  while (lineEnd >= 0 && data[lineEnd + 1] !== LF) lineEnd = data.indexOf(LF, lineEnd + 1);
  const headerEnd = lineEnd < 0 ? data.length : lineEnd + 1;
  const nul = data.subarray(0, headerEnd).indexOf(NUL);
  if (nul >= 0) throw fsckError("nulInHeader", `NUL byte in the object header at offset ${nul}`);
  if (lineEnd < 0 && data[data.length - 1] !== LF) throw fsckError("unterminatedHeader", "the object header does not end with a newline");
}

/** The index of the newline ending the header line at `offset`. Call after verifyHeaders. */
function headerLineEnd(data: Uint8Array, offset: number): number {
  const end = data.indexOf(LF, offset);
  if (end < 0) throw fsckError("unterminatedHeader", "the object header does not end with a newline");
  return end;
}

/** What follows the key of an id line: 40 hex digits and the newline. */
export const OID_LINE_REST = 41;

/** Reads "<prefix><40 hex>\n" at `offset`; returns the id. */
export function readOidLine(data: Uint8Array, offset: number, prefix: Uint8Array, msgId: string): Oid {
  const oid = readHexOid(data, offset + prefix.length);
  if (oid === undefined || data[offset + prefix.length + 40] !== LF) {
    throw fsckError(msgId, `invalid line at offset ${offset}: expected "${keyOf(prefix)}" and 40 lower-case hex digits`);
  }
  return oid;
}

function keyOf(prefix: Uint8Array): string {
  return String.fromCharCode(...prefix.subarray(0, -1));
}

/** The [start, end) of the value of the line at `offset`, which must start with `prefix`. */
export function requiredLine(data: Uint8Array, offset: number, prefix: Uint8Array, msgId: string): [number, number] {
  if (!startsWith(data, offset, prefix)) throw fsckError(msgId, `expected a "${keyOf(prefix)}" line at offset ${offset}`);
  return [offset + prefix.length, headerLineEnd(data, offset)];
}

/** Reads the extra headers from `offset` (a line start inside the header block) and the message. */
export function parseHeadersAndMessage(data: Uint8Array, offset: number): HeadersAndMessage {
  const headers: ExtraHeader[] = [];
  while (offset < data.length && data[offset] !== LF) {
    if (data[offset] === SPACE) throw fsckError("badHeaderContinuation", `continuation line without a header at offset ${offset}`);
    let keyEnd = offset;
    while (isKeyByte(data[keyEnd])) keyEnd++;
    if (data[keyEnd] !== SPACE) throw fsckError("badHeader", `header line at offset ${offset} is not "key value"`);
    const key = keyDecoder.decode(data.subarray(offset, keyEnd));
    let end = headerLineEnd(data, offset);
    let value = data.subarray(keyEnd + 1, end);
    if (data[end + 1] === SPACE) {
      const joined = new ByteBuilder().bytes(value);
      while (data[end + 1] === SPACE) {
        const start = end + 2;
        end = headerLineEnd(data, start);
        joined.byte(LF).bytes(data.subarray(start, end));
      }
      value = joined.build();
    }
    headers.push({ key, value });
    offset = end + 1;
  }
  return { headers, message: offset < data.length ? data.subarray(offset + 1) : null };
}

/** Appends the extra headers and the message, then returns the object once `check` accepts it. */
export function finishObject(out: ByteBuilder, { headers, message }: HeadersAndMessage, check: (data: Uint8Array) => void): Uint8Array {
  for (const { key, value } of headers) {
    if (!KEY_PATTERN.test(key)) throw fsckError("badHeader", `header key "${key}" is not printable ASCII without spaces`);
    out.text(key).byte(SPACE);
    let start = 0;
    for (let newline = value.indexOf(LF); newline >= 0; newline = value.indexOf(LF, start)) {
      out.bytes(value.subarray(start, newline + 1)).byte(SPACE);
      start = newline + 1;
    }
    out.bytes(value.subarray(start)).byte(LF);
  }
  if (message !== null) out.byte(LF).bytes(message);
  const data = out.build();
  check(data);
  return data;
}

/** The value of the first header named `key`. */
export function findHeader(headers: readonly ExtraHeader[], key: string): Uint8Array | undefined {
  return headers.find((header) => header.key === key)?.value;
}

const decoders = new Map<string, TextDecoder>();

/**
 * Decodes a message or a name of a commit or tag as text, honouring its `encoding` header
 * (git's default is UTF-8; an encoding the runtime does not know also falls back to UTF-8).
 */
export function decodeObjectText(object: { headers: readonly ExtraHeader[] }, bytes: Uint8Array | null): string {
  if (bytes === null) return "";
  const encoding = findHeader(object.headers, "encoding");
  const label = encoding === undefined ? "utf-8" : keyDecoder.decode(encoding).trim().toLowerCase();
  return (decoders.get(label) ?? createDecoder(label)).decode(bytes);
}

/** Caches decoders for known labels only, so hostile labels cannot grow the cache. */
function createDecoder(label: string): TextDecoder {
  try {
    const decoder = new TextDecoder(label as ConstructorParameters<typeof TextDecoder>[0]);
    decoders.set(label, decoder);
    return decoder;
  } catch {
    return decoders.get("utf-8") ?? createDecoder("utf-8");
  }
}
