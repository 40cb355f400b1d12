import { expect, test } from "bun:test";
import { encodeEntryHeader, PackObjectKind, readEntryHeader } from "../../src/git/pack/format.ts";
import { CorruptDataError } from "../../src/git/errors.ts";

test("entry headers round-trip across size and distance boundaries", () => {
  for (const size of [0, 15, 16, 127, 128, 2047, 2048, 1 << 20, 2 ** 32 + 5]) {
    for (const distance of [1, 127, 128, 16511, 16512, 2 ** 21, 123456789]) {
      const header = encodeEntryHeader(PackObjectKind.OfsDelta, size, distance);
      const padded = new Uint8Array(distance + header.length);
      padded.set(header, distance);
      const parsed = readEntryHeader(padded, distance);
      expect(parsed).toEqual({ kind: PackObjectKind.OfsDelta, size, headerLength: header.length, baseOffset: 0 });
    }
  }
});

test("a base offset before the pack start is refused", () => {
  const header = encodeEntryHeader(PackObjectKind.OfsDelta, 10, 50);
  const padded = new Uint8Array(20 + header.length);
  padded.set(header, 20);
  expect(() => readEntryHeader(padded, 20)).toThrow(CorruptDataError);
});

test("truncated headers are refused", () => {
  expect(() => readEntryHeader(Uint8Array.of(0x95), 0)).toThrow(CorruptDataError);
  expect(() => readEntryHeader(Uint8Array.of(0x70, 1, 2), 0)).toThrow(CorruptDataError);
});
