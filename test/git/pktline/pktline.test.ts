import { describe, expect, test } from "bun:test";
import { CorruptDataError, LimitExceededError } from "../../../src/git/errors.ts";
import {
  DELIM_PKT,
  encodePktLine,
  encodeSideBand,
  encodeTextPktLine,
  FLUSH_PKT,
  MAX_PKT_PAYLOAD,
  PktLineBuilder,
  PktLineReader,
  pktLineText,
  RESPONSE_END_PKT,
  SIDE_BAND_64K_MAX_DATA,
  SIDE_BAND_MAX_DATA,
  sideBandPieces,
} from "../../../src/git/pktline/index.ts";
import { concatBytes } from "../../../src/git/bytes.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytesOf = (s: string) => new TextEncoder().encode(s);

describe("encoding", () => {
  test("the length counts its own four digits", () => {
    expect(text(encodePktLine("a\n"))).toBe("0006a\n");
    expect(text(encodePktLine(""))).toBe("0004");
    expect(text(encodeTextPktLine("want abc"))).toBe("000dwant abc\n");
    expect(text(FLUSH_PKT) + text(DELIM_PKT) + text(RESPONSE_END_PKT)).toBe("000000010002");
  });

  test("the largest payload is 65516 bytes", () => {
    const packet = encodePktLine(new Uint8Array(MAX_PKT_PAYLOAD));
    expect(text(packet.subarray(0, 4))).toBe("fff0");
    expect(() => encodePktLine(new Uint8Array(MAX_PKT_PAYLOAD + 1))).toThrow(LimitExceededError);
  });

  test("the builder concatenates packets", () => {
    const built = new PktLineBuilder().text("version 2").delim().data("x").flush().toBytes();
    expect(text(built)).toBe("000eversion 2\n00010005x0000");
  });
});

describe("reading", () => {
  test("data, flush, delim and response-end round-trip", () => {
    const reader = new PktLineReader(bytesOf("0006a\n00000001000200040009hello"));
    expect(reader.next()).toEqual({ kind: "data", payload: bytesOf("a\n") });
    expect(reader.next().kind).toBe("flush");
    expect(reader.next().kind).toBe("delim");
    expect(reader.next().kind).toBe("response-end");
    expect(reader.next()).toEqual({ kind: "data", payload: new Uint8Array(0) });
    expect(pktLineText(reader.next().payload)).toBe("hello");
    expect(reader.atEnd).toBe(true);
    expect(() => reader.next()).toThrow(CorruptDataError);
  });

  test("readTextLine strips exactly one LF and returns undefined on flush", () => {
    const reader = new PktLineReader(bytesOf("0007a\n\n0005b0000"));
    expect(reader.readTextLine()).toBe("a\n");
    expect(reader.readTextLine()).toBe("b");
    expect(reader.readTextLine()).toBeUndefined();
    expect(() => new PktLineReader(DELIM_PKT).readTextLine()).toThrow(CorruptDataError);
  });

  test("upper-case hex lengths are accepted, as git does", () => {
    expect(new PktLineReader(bytesOf("000Aabcdef")).next().payload.length).toBe(6);
  });

  test("offset points past the last packet read (where a pack begins)", () => {
    const reader = new PktLineReader(bytesOf("0000PACK"));
    reader.next();
    expect(reader.offset).toBe(4);
  });

  test.each([
    ["bad hex", "00g5a", "pktline.length"],
    ["length 3", "0003", "pktline.length"],
    ["over 65520", "fff1", "pktline.length"],
    ["truncated payload", "000aabc", "pktline.truncated"],
    ["truncated length", "00", "pktline.truncated"],
  ])("%s is refused", (_name, input, code) => {
    const reader = new PktLineReader(bytesOf(input));
    let error: unknown;
    try {
      reader.next();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as CorruptDataError).code).toBe(code);
  });
});

describe("side-band", () => {
  test("splits data into packets of at most the given size, channel byte first", () => {
    const data = new Uint8Array(SIDE_BAND_64K_MAX_DATA * 2 + 7).map((_, i) => i & 0xff);
    const framed = encodeSideBand(1, data);
    const reader = new PktLineReader(framed);
    const sizes: number[] = [];
    const joined: number[] = [];
    while (!reader.atEnd) {
      const { payload } = reader.next();
      expect(payload[0]).toBe(1);
      sizes.push(payload.length - 1);
      joined.push(...payload.subarray(1));
    }
    expect(sizes).toEqual([SIDE_BAND_64K_MAX_DATA, SIDE_BAND_64K_MAX_DATA, 7]);
    expect(Uint8Array.from(joined)).toEqual(data);
  });

  test("small side-band packets are 1000 bytes", () => {
    const framed = encodeSideBand(2, new Uint8Array(SIDE_BAND_MAX_DATA + 1), SIDE_BAND_MAX_DATA);
    expect(text(framed.subarray(0, 4))).toBe("03e8");
  });

  test("text and empty data", () => {
    expect(text(encodeSideBand(3, "oops\n"))).toBe("000a\x03oops\n");
    expect(encodeSideBand(2, "").length).toBe(0);
  });

  test("as pieces: the same packets, each packet's data a view of the data, not a copy", () => {
    const data = new Uint8Array(SIDE_BAND_64K_MAX_DATA * 2 + 7).map((_, i) => (i * 7) & 0xff);
    for (const maxData of [SIDE_BAND_64K_MAX_DATA, SIDE_BAND_MAX_DATA, 1]) {
      const slice = data.subarray(0, maxData * 3 + 1);
      const pieces = [...sideBandPieces(1, slice, maxData)];
      expect(concatBytes(pieces)).toEqual(encodeSideBand(1, slice, maxData));
      expect(pieces.filter((_, index) => index % 2 === 1).every((piece) => piece.buffer === data.buffer)).toBe(true);
    }
    expect([...sideBandPieces(1, new Uint8Array(0))]).toEqual([]);
    expect(() => [...sideBandPieces(1, data, SIDE_BAND_64K_MAX_DATA + 1)]).toThrow("side-band packet size");
  });
});
