/** Byte-level helpers shared by the object parsers. Internal to src/git/object. */
import { concatBytes } from "../bytes.ts";
import { CorruptDataError } from "../errors.ts";
import type { Oid } from "../oid.ts";

export const NUL = 0x00;
export const LF = 0x0a;
export const SPACE = 0x20;

const encoder = new TextEncoder();
// Only ever applied to bytes already checked to be ASCII, where every single-byte decoder agrees.
const asciiDecoder = new TextDecoder("latin1");

/** The error every object check throws: code `fsck.<msgId>` with git's fsck message id. */
export function fsckError(msgId: string, message: string): CorruptDataError {
  return new CorruptDataError(`fsck.${msgId}`, message);
}

export function ascii(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Whether `data` holds the bytes of `prefix` at `offset`. */
export function startsWith(data: Uint8Array, offset: number, prefix: Uint8Array): boolean {
  if (offset + prefix.length > data.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (data[offset + i] !== prefix[i]) return false;
  }
  return true;
}

/** Whether two byte ranges hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && startsWith(a, 0, b);
}

/**
 * The 40 lower-case hex digits at `offset` as an Oid, or undefined when they are not exactly
 * that. git itself also reads upper-case digits, but never writes them; accepting them would
 * make an object that does not serialize back to its own bytes.
 */
export function readHexOid(data: Uint8Array, offset: number): Oid | undefined {
  const end = offset + 40;
  if (end > data.length) return undefined;
  for (let i = offset; i < end; i++) {
    const c = data[i];
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return undefined;
  }
  return asciiDecoder.decode(data.subarray(offset, end));
}

/** Every byte as the character with the same code (lossless, for names checked as text). */
export function byteString(data: Uint8Array): string {
  let text = "";
  for (let i = 0; i < data.length; i++) text += String.fromCharCode(data[i]);
  return text;
}

/** Appends byte chunks and produces one array at the end (one copy per chunk). */
export class ByteBuilder {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  bytes(chunk: Uint8Array): this {
    this.chunks.push(chunk);
    this.length += chunk.length;
    return this;
  }

  text(chunk: string): this {
    return this.bytes(encoder.encode(chunk));
  }

  byte(value: number): this {
    return this.bytes(Uint8Array.of(value));
  }

  build(): Uint8Array {
    return concatBytes(this.chunks, this.length);
  }
}
