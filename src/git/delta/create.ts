import { LimitExceededError } from "../errors.ts";
import {
  COPY_OPCODE,
  COPY_ZERO_SIZE,
  MAX_COPY_INSTRUCTION_BYTES,
  MAX_COPY_OFFSET,
  MAX_COPY_SIZE,
  MAX_INSERT_SIZE,
  MAX_SIZE_VARINT_BYTES,
} from "./format.ts";
import { fingerprintWindow, slideWindow, WINDOW } from "./rabin.ts";

/**
 * Delta compression in the manner of git's diff-delta.c: the base is cut into 16-byte blocks
 * whose Rabin fingerprints go into a hash table; the target is scanned with a rolling
 * fingerprint, and wherever a window's fingerprint is in the table the match is extended
 * forward (and backward over bytes not yet emitted) and becomes a copy; the rest are inserts.
 */

/**
 * At most this many blocks per bucket (evenly spread over the base): a base made of one
 * repeated block would otherwise make every look-up walk the whole base (git's HASH_LIMIT).
 */
const BUCKET_LIMIT = 64;
/** A match this long is not worth looking for a longer one (git stops at 4096 too). */
const GOOD_ENOUGH_MATCH = 4096;
/** Shorter matches (only possible on a fingerprint collision) cost more as a copy than inline. */
const MIN_COPY = 8;
/** Average blocks per hash bucket: small enough that a look-up inspects few entries. */
const BLOCKS_PER_BUCKET = 2;
/** Pending literals a match found at the next window can still turn into part of a copy. */
const RECLAIMABLE_LITERALS = WINDOW - 1;
/** Each index entry is two uint32 slots: the block's fingerprint, then its offset in the base. */
const ENTRY_SLOTS = 2;

/** An index of one base, built once and reused to delta many targets against it. */
export class DeltaIndex {
  private readonly base: Uint8Array;
  private readonly baseView: DataView;
  private readonly bucketMask: number;
  /** Entries of bucket b are entries[bucketStart[b] .. bucketStart[b + 1]), in base order. */
  private readonly bucketStart: Uint32Array;
  private readonly entries: Uint32Array;

  constructor(base: Uint8Array) {
    if (base.length > MAX_COPY_OFFSET) {
      throw new LimitExceededError("delta.base-size", `a delta base of ${base.length} bytes is beyond what copies can address`);
    }
    this.base = base;
    this.baseView = viewOf(base);
    const blockCount = Math.floor(base.length / WINDOW);
    let bucketCount = 1;
    while (bucketCount * BLOCKS_PER_BUCKET < blockCount) bucketCount *= 2;
    const bucketMask = bucketCount - 1;

    // Fingerprint every block; of consecutive identical blocks (runs of one byte, padding)
    // only the first is kept: a match found there extends over the whole run anyway.
    const fingerprints = new Int32Array(blockCount);
    const counts = new Uint32Array(bucketCount);
    let previous = -1;
    for (let block = 0; block < blockCount; block++) {
      const fingerprint = fingerprintWindow(base, block * WINDOW);
      if (fingerprint === previous) {
        fingerprints[block] = -1;
      } else {
        fingerprints[block] = fingerprint;
        counts[fingerprint & bucketMask]++;
        previous = fingerprint;
      }
    }

    const bucketStart = new Uint32Array(bucketCount + 1);
    for (let bucket = 0; bucket < bucketCount; bucket++) {
      bucketStart[bucket + 1] = bucketStart[bucket] + Math.min(counts[bucket], BUCKET_LIMIT);
    }
    const entries = new Uint32Array(bucketStart[bucketCount] * ENTRY_SLOTS);

    // An overfull bucket keeps the first block of each 1/BUCKET_LIMIT of its ranks, so the
    // kept blocks are spread over the base, in base order, starting with the earliest.
    const ranks = new Uint32Array(bucketCount);
    for (let block = 0; block < blockCount; block++) {
      const fingerprint = fingerprints[block];
      if (fingerprint < 0) continue;
      const bucket = fingerprint & bucketMask;
      const rank = ranks[bucket]++;
      const count = counts[bucket];
      let slot = rank;
      if (count > BUCKET_LIMIT) {
        slot = Math.floor((rank * BUCKET_LIMIT) / count);
        if (rank > 0 && Math.floor(((rank - 1) * BUCKET_LIMIT) / count) === slot) continue;
      }
      const entry = (bucketStart[bucket] + slot) * ENTRY_SLOTS;
      entries[entry] = fingerprint;
      entries[entry + 1] = block * WINDOW;
    }
    this.bucketMask = bucketMask;
    this.bucketStart = bucketStart;
    this.entries = entries;
  }

  /**
   * A delta that rebuilds `target` from this index's base, or undefined as soon as it would be
   * longer than `maxDeltaSize` bytes. While scanning, pending literal bytes count as inserts,
   * except for the last WINDOW - 1 of them, which a match found at the next window start may
   * still reach back over; a match reaching back further is rare (as in git, which gives up
   * on pending literals too), so an abandoned candidate is almost never one that would fit.
   */
  createDelta(target: Uint8Array, maxDeltaSize = Number.POSITIVE_INFINITY): Uint8Array | undefined {
    const base = this.base;
    const baseView = this.baseView;
    const targetView = viewOf(target);
    const entries = this.entries;
    const bucketStart = this.bucketStart;
    const bucketMask = this.bucketMask;
    const out = scratchWriter;
    out.reset();
    out.writeSize(base.length);
    out.writeSize(target.length);
    if (out.length > maxDeltaSize) return undefined;

    let literalsAllowed = literalBudget(maxDeltaSize - out.length);
    let insertStart = 0;
    let position = 0;
    const lastWindow = entries.length === 0 ? -1 : target.length - WINDOW;
    let fingerprint = lastWindow >= 0 ? fingerprintWindow(target, 0) : 0;
    while (position <= lastWindow) {
      let matchLength = 0;
      let matchOffset = 0;
      const bucket = fingerprint & bucketMask;
      const targetLeft = target.length - position;
      for (let entry = bucketStart[bucket] * ENTRY_SLOTS, end = bucketStart[bucket + 1] * ENTRY_SLOTS; entry < end; entry += ENTRY_SLOTS) {
        if (entries[entry] !== fingerprint) continue;
        const offset = entries[entry + 1];
        // Entries are in base order, so candidates can only get shorter from here on.
        const limit = Math.min(base.length - offset, targetLeft);
        if (limit <= matchLength) break;
        const length = commonPrefixLength(base, baseView, offset, target, targetView, position, limit);
        if (length > matchLength) {
          matchLength = length;
          matchOffset = offset;
          if (length >= GOOD_ENOUGH_MATCH) break;
        }
      }

      if (matchLength < MIN_COPY) {
        if (position - insertStart >= literalsAllowed + RECLAIMABLE_LITERALS) return undefined;
        if (position < lastWindow) fingerprint = slideWindow(fingerprint, target[position], target[position + WINDOW]);
        position++;
        continue;
      }

      while (position > insertStart && matchOffset > 0 && base[matchOffset - 1] === target[position - 1]) {
        position--;
        matchOffset--;
        matchLength++;
      }
      out.writeInserts(target, insertStart, position);
      out.writeCopies(matchOffset, matchLength);
      if (out.length > maxDeltaSize) return undefined;
      literalsAllowed = literalBudget(maxDeltaSize - out.length);
      position += matchLength;
      insertStart = position;
      if (position <= lastWindow) fingerprint = fingerprintWindow(target, position);
    }

    if (target.length - insertStart > literalsAllowed) return undefined;
    out.writeInserts(target, insertStart, target.length);
    return out.finish();
  }
}

/** Convenience for a single pair; to delta many targets against one base, reuse a DeltaIndex. */
export function createDelta(base: Uint8Array, target: Uint8Array, maxDeltaSize?: number): Uint8Array | undefined {
  return new DeltaIndex(base).createDelta(target, maxDeltaSize);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** How many bytes from aStart and bStart are equal, at most `limit`; four at a time through the views. */
function commonPrefixLength(a: Uint8Array, aView: DataView, aStart: number, b: Uint8Array, bView: DataView, bStart: number, limit: number): number {
  let length = 0;
  while (length + 4 <= limit && aView.getInt32(aStart + length) === bView.getInt32(bStart + length)) length += 4;
  while (length < limit && a[aStart + length] === b[bStart + length]) length++;
  return length;
}

/** How many literal bytes fit in `budget` delta bytes, counting one opcode per 127 of them. */
function literalBudget(budget: number): number {
  if (budget === Number.POSITIVE_INFINITY) return budget;
  return budget - Math.ceil(budget / (MAX_INSERT_SIZE + 1));
}

/** Deltas are built in one reused buffer (creation is synchronous), then copied out at their size. */
const SCRATCH_BYTES = 64 * 1024;
/** A scratch buffer that grew past this for one huge delta is not kept for the next. */
const MAX_RETAINED_SCRATCH_BYTES = 4 * 1024 * 1024;

/** A growable byte buffer that encodes delta instructions. */
class DeltaWriter {
  private bytes = new Uint8Array(SCRATCH_BYTES);
  length = 0;

  reset(): void {
    this.length = 0;
    if (this.bytes.length > MAX_RETAINED_SCRATCH_BYTES) this.bytes = new Uint8Array(SCRATCH_BYTES);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /** A little-endian base-128 size (the delta header). */
  writeSize(value: number): void {
    this.reserve(MAX_SIZE_VARINT_BYTES);
    let rest = value;
    while (rest >= 0x80) {
      this.bytes[this.length++] = (rest & 0x7f) | 0x80;
      rest = Math.floor(rest / 128);
    }
    this.bytes[this.length++] = rest;
  }

  /** source[from, to) as insert instructions of at most 127 bytes each. */
  writeInserts(source: Uint8Array, from: number, to: number): void {
    const total = to - from;
    if (total === 0) return;
    this.reserve(total + Math.ceil(total / MAX_INSERT_SIZE));
    const bytes = this.bytes;
    let length = this.length;
    for (let start = from; start < to; start += MAX_INSERT_SIZE) {
      const size = Math.min(MAX_INSERT_SIZE, to - start);
      bytes[length++] = size;
      for (let i = 0; i < size; i++) bytes[length + i] = source[start + i];
      length += size;
    }
    this.length = length;
  }

  /** A copy of base[offset, offset + size), split at the largest size one instruction holds. */
  writeCopies(offset: number, size: number): void {
    this.reserve(Math.ceil(size / MAX_COPY_SIZE) * MAX_COPY_INSTRUCTION_BYTES);
    for (let done = 0; done < size; done += MAX_COPY_SIZE) this.writeCopy(offset + done, Math.min(MAX_COPY_SIZE, size - done));
  }

  /** One copy instruction: only the non-zero offset and size bytes are written. */
  private writeCopy(offset: number, size: number): void {
    const bytes = this.bytes;
    const opcodeAt = this.length;
    let length = opcodeAt + 1;
    let opcode = COPY_OPCODE;
    for (let i = 0; i < 4; i++) {
      const byte = (offset >>> (8 * i)) & 0xff;
      if (byte !== 0) {
        bytes[length++] = byte;
        opcode |= 1 << i;
      }
    }
    // A copy without size bytes means 0x10000.
    for (let i = 0; i < 3 && size !== COPY_ZERO_SIZE; i++) {
      const byte = (size >> (8 * i)) & 0xff;
      if (byte !== 0) {
        bytes[length++] = byte;
        opcode |= 0x10 << i;
      }
    }
    bytes[opcodeAt] = opcode;
    this.length = length;
  }

  finish(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

const scratchWriter = new DeltaWriter();
