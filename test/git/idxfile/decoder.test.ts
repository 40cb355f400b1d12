import { describe, expect, test } from "bun:test";
import { CorruptDataError } from "../../../src/git/errors.ts";
import { decodePackIndex, encodePackIndex } from "../../../src/git/idxfile/index.ts";
import type { Codec } from "../../../src/git/codec/codec.ts";
import { oidToHex } from "../../../src/git/oid.ts";
import { CODECS } from "../codecs.ts";
import { repoFixture, showIndex } from "../pack/input/fixtures.ts";
import { expectGitError, resealed } from "../pack/input/pack-builder.ts";

const FANOUT = 8;
const OIDS = 8 + 1024;

function expectCorrupt(codec: Codec, bytes: Uint8Array, code: string): void {
  expectGitError(() => decodePackIndex(bytes, codec), CorruptDataError, code);
}

/** A copy of `bytes` with a big-endian 32-bit value written at `offset`. */
function withUint32(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(offset, value);
  return out;
}

describe.each(CODECS)("decodePackIndex (%s)", (_, codec) => {
  const fixture = repoFixture();
  const listed = showIndex(fixture.idx);

  test("reads every id, offset and CRC of git's index", () => {
    const index = decodePackIndex(fixture.idx, codec);
    expect(index.objectCount).toBe(listed.length);
    expect(index.packChecksum).toBe(oidToHex(fixture.pack, fixture.pack.length - 20));
    listed.forEach((entry, position) => {
      expect(index.oidAt(position)).toBe(entry.oid);
      expect(index.offsetAt(position)).toBe(entry.offset);
      expect(index.crc32At(position)).toBe(entry.crc32);
      expect(index.findPosition(entry.oid)).toBe(position);
    });
  });

  test("does not find ids the pack lacks, at bucket edges too", () => {
    const index = decodePackIndex(fixture.idx, codec);
    for (const entry of listed.slice(0, 200)) {
      const last = entry.oid.at(-1) === "0" ? "1" : "0";
      const absent = entry.oid.slice(0, 39) + last;
      if (!listed.some((other) => other.oid === absent)) expect(index.findPosition(absent)).toBe(-1);
    }
    expect(index.findPosition("00".repeat(20))).toBe(-1);
    expect(index.findPosition("ff".repeat(20))).toBe(-1);
    expect(index.findOffset("ff".repeat(20))).toBeUndefined();
    expect(() => index.oidAt(listed.length)).toThrow(RangeError);
  });

  describe("refuses", () => {
    const small = encodePackIndex(listed.slice(0, 50), "cd".repeat(20), codec);
    const count = 50;

    test("a bad checksum", () => {
      const bytes = small.slice();
      bytes[OIDS + 3] ^= 1;
      expectCorrupt(codec, bytes, "idx.checksum");
    });

    test("truncation anywhere", () => {
      for (const length of [0, 7, 8, 500, OIDS, OIDS + 39, small.length - 41, small.length - 1]) {
        expect(() => decodePackIndex(small.subarray(0, length), codec)).toThrow(CorruptDataError);
      }
    });

    test("a bad signature or version", () => {
      expectCorrupt(codec, resealed(codec, withUint32(small, 0, 0x12345678)), "idx.signature");
      expectCorrupt(codec, resealed(codec, withUint32(small, 4, 3)), "idx.version");
    });

    test("a fan-out that is not monotonic", () => {
      const view = new DataView(small.buffer);
      const broken = withUint32(small, FANOUT + 99 * 4, view.getUint32(FANOUT + 100 * 4) + 1);
      expectCorrupt(codec, resealed(codec, broken), "idx.fanout");
    });

    test("a size that disagrees with the fan-out", () => {
      expectCorrupt(codec, resealed(codec, withUint32(small, FANOUT + 255 * 4, count + 1)), "idx.truncated");
      expectCorrupt(codec, resealed(codec, withUint32(small, FANOUT + 255 * 4, 0xffffffff)), "idx.truncated");
      const padded = new Uint8Array(small.length + 4);
      padded.set(small.subarray(0, small.length - 40));
      padded.set(small.subarray(small.length - 40), small.length - 36);
      expectCorrupt(codec, resealed(codec, padded), "idx.size");
    });

    test("ids out of order or outside their bucket", () => {
      const swapped = small.slice();
      swapped.set(small.subarray(OIDS + 20 * 11, OIDS + 20 * 12), OIDS + 20 * 10);
      swapped.set(small.subarray(OIDS + 20 * 10, OIDS + 20 * 11), OIDS + 20 * 11);
      const sameBucket = small[OIDS + 20 * 10] === small[OIDS + 20 * 11];
      expectCorrupt(codec, resealed(codec, swapped), sameBucket ? "idx.order" : "idx.fanout");
      const moved = small.slice();
      moved[OIDS + 20 * 20] ^= 0x80;
      expectCorrupt(codec, resealed(codec, moved), "idx.fanout");
    });

    test("offsets inside the header, past the 64-bit table, or beyond 2^53", () => {
      const offsets = OIDS + count * 24;
      expectCorrupt(codec, resealed(codec, withUint32(small, offsets + 8, 4)), "idx.offset");
      expectCorrupt(codec, resealed(codec, withUint32(small, offsets + 8, 0x80000000)), "idx.offset");
      const large = encodePackIndex([{ oid: "ab".repeat(20), offset: 2 ** 40, crc32: 0 }], "00".repeat(20), codec);
      expect(decodePackIndex(large, codec).offsetAt(0)).toBe(2 ** 40);
      expectCorrupt(codec, resealed(codec, withUint32(large, OIDS + 28, 2 ** 21)), "idx.offset");
    });

    test("a CRC change only with its checksum (the structure cannot tell)", () => {
      const changed = withUint32(small, OIDS + count * 20, 0xdeadbeef);
      expectCorrupt(codec, changed, "idx.checksum");
      expect(decodePackIndex(resealed(codec, changed), codec).crc32At(0)).toBe(0xdeadbeef);
    });
  });
});
