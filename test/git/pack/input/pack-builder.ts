/** Hand-made packs and deltas for the hostile and structural tests. */
import { concatBytes as concat } from "../../../../src/git/bytes.ts";
import { expect } from "bun:test";
import type { GitError } from "../../../../src/git/errors.ts";
import type { Codec } from "../../../../src/git/codec/codec.ts";
import { encodeEntryHeader, PackObjectKind, PACK_SIGNATURE } from "../../../../src/git/pack/format.ts";
import { hexToOid, type Oid } from "../../../../src/git/oid.ts";

export type EntrySpec =
  | { kind: PackObjectKind.Commit | PackObjectKind.Tree | PackObjectKind.Blob | PackObjectKind.Tag; data: Uint8Array; declaredSize?: number }
  | { kind: PackObjectKind.OfsDelta; data: Uint8Array; base: number; declaredSize?: number }
  | { kind: PackObjectKind.RefDelta; data: Uint8Array; baseOid: Oid; declaredSize?: number };

export interface BuiltPack {
  pack: Uint8Array;
  offsets: number[];
}


/** A version 2 pack of `entries` (OFS_DELTA bases named by entry number); `objectCount` may lie. */
export function buildPack(codec: Codec, entries: EntrySpec[], options: { objectCount?: number } = {}): BuiltPack {
  const header = new Uint8Array(12);
  const view = new DataView(header.buffer);
  view.setUint32(0, PACK_SIGNATURE);
  view.setUint32(4, 2);
  view.setUint32(8, options.objectCount ?? entries.length);
  const parts: Uint8Array[] = [header];
  const offsets: number[] = [];
  let offset = header.length;
  for (const entry of entries) {
    offsets.push(offset);
    const size = entry.declaredSize ?? entry.data.length;
    const entryHeader =
      entry.kind === PackObjectKind.OfsDelta
        ? encodeEntryHeader(entry.kind, size, offset - offsets[entry.base])
        : entry.kind === PackObjectKind.RefDelta
          ? concat([encodeEntryHeader(entry.kind, size), hexToOid(entry.baseOid)])
          : encodeEntryHeader(entry.kind, size);
    const compressed = codec.deflate(entry.data);
    parts.push(entryHeader, compressed);
    offset += entryHeader.length + compressed.length;
  }
  const body = concat(parts);
  return { pack: concat([body, codec.sha1().update(body).digest()]), offsets };
}

/** Recomputes a pack's (or index's) trailing SHA-1 after a test changed its bytes. */
export function resealed(codec: Codec, bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out.set(codec.sha1().update(out.subarray(0, out.length - 20)).digest(), out.length - 20);
  return out;
}

function sizeVarint(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    bytes.push(byte);
  } while (value > 0);
  return bytes;
}

export type DeltaOp = { copy: [offset: number, size: number] } | { insert: Uint8Array };

/** A delta from `ops` (copies of at most 0xffffff bytes, inserts of at most 127). */
export function buildDelta(baseSize: number, resultSize: number, ops: DeltaOp[]): Uint8Array {
  const bytes = [...sizeVarint(baseSize), ...sizeVarint(resultSize)];
  for (const op of ops) {
    if ("insert" in op) {
      bytes.push(op.insert.length, ...op.insert);
      continue;
    }
    const [offset, size] = op.copy;
    let opcode = 0x80;
    const operands: number[] = [];
    for (let i = 0; i < 4; i++) {
      const byte = Math.floor(offset / 2 ** (8 * i)) & 0xff;
      if (byte) {
        opcode |= 1 << i;
        operands.push(byte);
      }
    }
    for (let i = 0; i < 3; i++) {
      const byte = (size >> (8 * i)) & 0xff;
      if (byte) {
        opcode |= 0x10 << i;
        operands.push(byte);
      }
    }
    bytes.push(opcode, ...operands);
  }
  return Uint8Array.from(bytes);
}

export const text = (value: string): Uint8Array => new TextEncoder().encode(value);

/** Runs `run`, expects it to throw an instance of `expected` (with `code`, when given) and returns the error. */
export function expectGitError<T extends GitError>(run: () => unknown, expected: abstract new (...args: never[]) => T, code?: string): T {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(expected);
  if (code) expect((caught as GitError).code).toBe(code);
  return caught as T;
}
