import { CorruptDataError, LimitExceededError } from "../errors.ts";
import { COPY_OPCODE, COPY_ZERO_SIZE, MAX_COPY_SIZE, MAX_INSERT_SIZE, MAX_SIZE_VARINT_BYTES } from "./format.ts";

/** The two sizes in front of a delta's instructions (gitformat-pack, "Deltified representation"). */
export interface DeltaHeader {
  baseSize: number;
  resultSize: number;
  /** Bytes the two sizes occupy: the instructions start here. */
  headerLength: number;
}

/** Results must fit in 32 bits unless the caller sets a lower bound. */
const DEFAULT_MAX_RESULT_SIZE = 0xffffffff;

/** Below this length a byte loop beats creating a subarray for `set`. */
const SHORT_RUN = 24;

/** Number of operand bytes that follow a copy opcode: one per set bit among bits 0-6. */
const COPY_OPERAND_BYTES = new Uint8Array(128);
for (let bits = 1; bits < 128; bits++) COPY_OPERAND_BYTES[bits] = COPY_OPERAND_BYTES[bits >> 1] + (bits & 1);

function readSize(delta: Uint8Array, start: number, what: string): { value: number; end: number } {
  let value = 0;
  let multiplier = 1;
  let pos = start;
  for (;;) {
    if (pos >= delta.length) throw new CorruptDataError("delta.truncated", `delta header is truncated in the ${what} size`);
    if (pos - start >= MAX_SIZE_VARINT_BYTES) throw new CorruptDataError("delta.header", `delta ${what} size is absurdly long`);
    const byte = delta[pos++];
    value += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0) return { value, end: pos };
  }
}

/** Reads the base and result sizes without applying the delta (e.g. to learn an object's size). */
export function readDeltaHeader(delta: Uint8Array): DeltaHeader {
  const base = readSize(delta, 0, "base");
  const result = readSize(delta, base.end, "result");
  return { baseSize: base.value, resultSize: result.value, headerLength: result.end };
}

/**
 * Rebuilds the object a delta describes. Everything is checked before it is used: the base
 * size against `base`, the result size against `maxResultSize` and against what the
 * instructions could possibly produce (both before allocating), every copy against the base,
 * every insert against the delta, and the bytes produced against the declared result size.
 * `allocate` may hand out a reused buffer of exactly the result's size.
 */
export function applyDelta(
  base: Uint8Array,
  delta: Uint8Array,
  maxResultSize = DEFAULT_MAX_RESULT_SIZE,
  allocate: (size: number) => Uint8Array = (size) => new Uint8Array(size),
): Uint8Array {
  const { baseSize, resultSize, headerLength } = readDeltaHeader(delta);
  if (baseSize !== base.length) {
    throw new CorruptDataError("delta.base-size", `delta expects a base of ${baseSize} bytes, the base has ${base.length}`);
  }
  if (resultSize > maxResultSize) {
    throw new LimitExceededError("delta.result-size", `delta result of ${resultSize} bytes exceeds the limit of ${maxResultSize}`);
  }
  // No instruction byte yields more than one whole base (or one insert), so a declared size
  // beyond that product is a lie we can reject without allocating it.
  const mostPerInstructionByte = Math.max(MAX_INSERT_SIZE, Math.min(MAX_COPY_SIZE, base.length));
  if (resultSize > (delta.length - headerLength) * mostPerInstructionByte) {
    throw new CorruptDataError("delta.result-size", `delta declares ${resultSize} bytes, more than its instructions can produce`);
  }

  // Every byte of the result is written below (checked at the end): a reused buffer needs no clearing.
  const result = allocate(resultSize);
  let pos = headerLength;
  let out = 0;
  while (pos < delta.length) {
    const opcode = delta[pos++];
    let source: Uint8Array;
    let from: number;
    let size: number;
    if (opcode & COPY_OPCODE) {
      if (pos + COPY_OPERAND_BYTES[opcode & 0x7f] > delta.length) {
        throw new CorruptDataError("delta.truncated", `copy instruction at ${pos - 1} is truncated`);
      }
      from = 0;
      if (opcode & 0x01) from = delta[pos++];
      if (opcode & 0x02) from |= delta[pos++] << 8;
      if (opcode & 0x04) from |= delta[pos++] << 16;
      if (opcode & 0x08) from += delta[pos++] * 0x1000000;
      size = 0;
      if (opcode & 0x10) size = delta[pos++];
      if (opcode & 0x20) size |= delta[pos++] << 8;
      if (opcode & 0x40) size |= delta[pos++] << 16;
      if (size === 0) size = COPY_ZERO_SIZE;
      if (from + size > baseSize) {
        throw new CorruptDataError("delta.copy-range", `copy of ${size} bytes at ${from} is outside the ${baseSize}-byte base`);
      }
      source = base;
    } else if (opcode !== 0) {
      size = opcode;
      if (pos + size > delta.length) throw new CorruptDataError("delta.truncated", `insert of ${size} bytes runs past the delta's end`);
      source = delta;
      from = pos;
      pos += size;
    } else {
      throw new CorruptDataError("delta.opcode", `reserved delta opcode 0 at ${pos - 1}`);
    }
    if (size > resultSize - out) {
      throw new CorruptDataError("delta.result-size", `delta produces more than its declared ${resultSize} bytes`);
    }
    if (size < SHORT_RUN) {
      for (let i = 0; i < size; i++) result[out + i] = source[from + i];
    } else {
      result.set(source.subarray(from, from + size), out);
    }
    out += size;
  }
  if (out !== resultSize) {
    throw new CorruptDataError("delta.result-size", `delta produced ${out} bytes, its header declares ${resultSize}`);
  }
  return result;
}
