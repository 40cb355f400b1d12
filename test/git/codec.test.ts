import { describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import { CorruptDataError, LimitExceededError } from "../../src/git/errors.ts";
import { CODECS } from "./codecs.ts";

const text = new TextEncoder().encode("hello world, ".repeat(1000));

describe.each(CODECS)("codec %s", (_name, codec) => {
  test("inflate reports where one stream ends", () => {
    const stream = zlib.deflateSync(text);
    const framed = new Uint8Array([9, 9, ...stream, 1, 2, 3]);
    const { data, bytesRead } = codec.inflate(framed.subarray(2), text.length);
    expect(Buffer.from(data).equals(Buffer.from(text))).toBe(true);
    expect(bytesRead).toBe(stream.length);
  });

  test("deflate round-trips through the other codec's reader", () => {
    const packed = codec.deflate(text);
    expect(Buffer.from(zlib.inflateSync(packed)).equals(Buffer.from(text))).toBe(true);
  });

  test("empty stream inflates", () => {
    const { data, bytesRead } = codec.inflate(zlib.deflateSync(new Uint8Array(0)), 0);
    expect(data.length).toBe(0);
    expect(bytesRead).toBe(8);
  });

  test("output beyond the limit is refused", () => {
    expect(() => codec.inflate(zlib.deflateSync(text), text.length - 1)).toThrow(LimitExceededError);
  });

  test("truncated and corrupt streams are refused", () => {
    const stream = zlib.deflateSync(text);
    expect(() => codec.inflate(stream.subarray(0, stream.length - 5), text.length)).toThrow(CorruptDataError);
    const corrupt = Uint8Array.from(stream);
    corrupt[0] = 0xff;
    expect(() => codec.inflate(corrupt, text.length)).toThrow(CorruptDataError);
  });

  test("inflate finds where small streams end whatever follows them, the stream's own check bytes too", () => {
    for (let size = 0; size < 3000; size += 97) {
      const data = Uint8Array.from({ length: size }, (_, i) => (i * 7 + (i % 11 === 0 ? i >>> 3 : 0)) & 0xff);
      for (const level of [0, 6, 9]) {
        const stream = zlib.deflateSync(data, { level });
        // What follows: the stream's Adler-32 again (a second place it could seem to end), then other bytes.
        const framed = new Uint8Array([...stream, ...stream.subarray(stream.length - 4), 0x78, 0x9c, 1, 2]);
        const { data: out, bytesRead } = codec.inflate(framed, size);
        expect(bytesRead).toBe(stream.length);
        expect(Buffer.from(out).equals(Buffer.from(data))).toBe(true);
      }
    }
  });

  test("inflate refuses a small stream that inflates beyond the limit, and one cut before its check bytes", () => {
    const small = new TextEncoder().encode("x".repeat(500));
    const stream = zlib.deflateSync(small);
    expect(() => codec.inflate(stream, 499)).toThrow(LimitExceededError);
    for (let cut = 1; cut <= 4; cut++) expect(() => codec.inflate(stream.subarray(0, stream.length - cut), 500)).toThrow(CorruptDataError);
  });

  test("inflate delivers outputs larger than its first buffer, and bounds them by the limit", () => {
    const large = new Uint8Array(5 << 20).map((_, i) => (i * 2654435761) >>> 24);
    const stream = zlib.deflateSync(large);
    const { data, bytesRead } = codec.inflate(stream, 64 << 20);
    expect(Buffer.from(data).equals(Buffer.from(large))).toBe(true);
    expect(bytesRead).toBe(stream.length);
    expect(() => codec.inflate(stream, large.length - 1)).toThrow(LimitExceededError);
  });

  test("a corrupt stream leaves the next inflate whole", () => {
    const stream = zlib.deflateSync(text);
    const corrupt = Uint8Array.from(stream);
    corrupt[corrupt.length - 1] ^= 0xff;
    for (let round = 0; round < 3; round++) {
      expect(() => codec.inflate(corrupt, text.length)).toThrow(CorruptDataError);
      expect(() => codec.inflate(stream, 10)).toThrow(LimitExceededError);
      expect(Buffer.from(codec.inflate(stream, text.length).data).equals(Buffer.from(text))).toBe(true);
    }
  });

  test("sha1 and crc32 match the reference values", () => {
    const abc = new TextEncoder().encode("abc");
    expect(Buffer.from(codec.sha1().update(abc).digest()).toString("hex")).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
    expect(codec.crc32(abc)).toBe(0x352441c2);
    expect(codec.crc32(abc.subarray(1), codec.crc32(abc.subarray(0, 1)))).toBe(0x352441c2);
  });
});
