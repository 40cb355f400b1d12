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
