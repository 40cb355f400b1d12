import { concatBytes } from "../bytes.ts";
import { CorruptDataError, LimitExceededError } from "../errors.ts";

/**
 * pkt-line framing (gitprotocol-common, "pkt-line Format"): four hex digits giving the packet's
 * total length, its own four bytes included, then the payload. Lengths 0, 1 and 2 are the
 * special packets below; 3 is invalid, 4 is an empty data packet.
 */
export const PKT_LENGTH_BYTES = 4;
/** Largest packet, length prefix included. */
export const MAX_PKT_LENGTH = 65520;
export const MAX_PKT_PAYLOAD = MAX_PKT_LENGTH - PKT_LENGTH_BYTES;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `0000`: ends a message (v0) or a command / response section (v2). */
export const FLUSH_PKT: Uint8Array = encoder.encode("0000");
/** `0001`: separates sections of a v2 command or response. */
export const DELIM_PKT: Uint8Array = encoder.encode("0001");
/** `0002`: ends a v2 response on stateful transports; never sent over HTTP (gitprotocol-http). */
export const RESPONSE_END_PKT: Uint8Array = encoder.encode("0002");

export type PktLineKind = "data" | "flush" | "delim" | "response-end";

/** One packet; `payload` is empty for the special packets. It views the input: copy to keep it. */
export interface PktLine {
  kind: PktLineKind;
  payload: Uint8Array;
}

const HEX_DIGITS = "0123456789abcdef";
const EMPTY = new Uint8Array(0);

/** Writes the four lower-case hex digits of a packet length. */
export function writeLengthPrefix(target: Uint8Array, offset: number, length: number): void {
  for (let shift = 12, i = 0; i < PKT_LENGTH_BYTES; i++, shift -= 4) {
    target[offset + i] = HEX_DIGITS.charCodeAt((length >> shift) & 0xf);
  }
}

/** Frames one data packet. Throws LimitExceededError when the payload exceeds MAX_PKT_PAYLOAD. */
export function encodePktLine(payload: Uint8Array | string): Uint8Array {
  const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
  if (bytes.length > MAX_PKT_PAYLOAD) {
    throw new LimitExceededError("pktline.too-long", `pkt-line payload of ${bytes.length} bytes exceeds ${MAX_PKT_PAYLOAD}`);
  }
  const packet = new Uint8Array(PKT_LENGTH_BYTES + bytes.length);
  writeLengthPrefix(packet, 0, packet.length);
  packet.set(bytes, PKT_LENGTH_BYTES);
  return packet;
}

/** Frames a text line; the LF that gitprotocol-common asks senders to add is appended. */
export function encodeTextPktLine(line: string): Uint8Array {
  return encodePktLine(`${line}\n`);
}

/** Decodes a text payload, dropping one trailing LF (receivers must accept it with or without). */
export function pktLineText(payload: Uint8Array): string {
  const end = payload.length > 0 && payload[payload.length - 1] === 0x0a ? payload.length - 1 : payload.length;
  return decoder.decode(payload.subarray(0, end));
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  return -1;
}

const SPECIAL_KINDS: readonly PktLineKind[] = ["flush", "delim", "response-end"];

/**
 * A synchronous scanner over a complete buffer of pkt-lines (an HTTP request body is read whole
 * before it is parsed). Payloads are views into the buffer, never copies.
 */
export class PktLineReader {
  private position: number;

  constructor(
    private readonly bytes: Uint8Array,
    offset = 0,
  ) {
    this.position = offset;
  }

  get atEnd(): boolean {
    return this.position >= this.bytes.length;
  }

  /** Offset of the next unread byte: where raw data following the pkt-lines begins (a pack). */
  get offset(): number {
    return this.position;
  }

  /** The next packet. Throws CorruptDataError at the end of input or on a malformed packet. */
  next(): PktLine {
    const start = this.position;
    const bytes = this.bytes;
    if (start + PKT_LENGTH_BYTES > bytes.length) {
      throw new CorruptDataError("pktline.truncated", this.atEnd ? "unexpected end of pkt-line stream" : "truncated pkt-line length");
    }
    let length = 0;
    for (let i = 0; i < PKT_LENGTH_BYTES; i++) {
      const digit = hexValue(bytes[start + i]);
      if (digit < 0) throw new CorruptDataError("pktline.length", `bad pkt-line length at offset ${start}`);
      length = (length << 4) | digit;
    }
    if (length < PKT_LENGTH_BYTES) {
      if (length === 3) throw new CorruptDataError("pktline.length", `invalid pkt-line length 3 at offset ${start}`);
      this.position = start + PKT_LENGTH_BYTES;
      return { kind: SPECIAL_KINDS[length], payload: EMPTY };
    }
    if (length > MAX_PKT_LENGTH) {
      throw new CorruptDataError("pktline.length", `pkt-line length ${length} exceeds ${MAX_PKT_LENGTH} at offset ${start}`);
    }
    if (start + length > bytes.length) {
      throw new CorruptDataError("pktline.truncated", `pkt-line at offset ${start} declares ${length} bytes, ${bytes.length - start} remain`);
    }
    this.position = start + length;
    return { kind: "data", payload: bytes.subarray(start + PKT_LENGTH_BYTES, start + length) };
  }

  /**
   * The next packet as text (one trailing LF dropped), or undefined for a flush. A delim or
   * response-end packet here is a protocol error (they only occur where next() is used).
   */
  readTextLine(): string | undefined {
    const line = this.next();
    if (line.kind === "data") return pktLineText(line.payload);
    if (line.kind === "flush") return undefined;
    throw new CorruptDataError("pktline.unexpected", `unexpected ${line.kind} packet`);
  }
}

/**
 * Accumulates packets into one buffer, so a response is built with a single final copy.
 */
export class PktLineBuilder {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  private push(part: Uint8Array): this {
    this.parts.push(part);
    this.length += part.length;
    return this;
  }

  data(payload: Uint8Array | string): this {
    return this.push(encodePktLine(payload));
  }

  /** A text line, LF appended. */
  text(line: string): this {
    return this.push(encodeTextPktLine(line));
  }

  /** Already-framed bytes (for example side-band packets). */
  raw(bytes: Uint8Array): this {
    return this.push(bytes);
  }

  flush(): this {
    return this.push(FLUSH_PKT);
  }

  delim(): this {
    return this.push(DELIM_PKT);
  }

  get byteLength(): number {
    return this.length;
  }

  toBytes(): Uint8Array {
    return concatBytes(this.parts, this.length);
  }
}
