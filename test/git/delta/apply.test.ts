import { describe, expect, test } from "bun:test";
import { applyDelta, readDeltaHeader } from "../../../src/git/delta/apply.ts";
import { CorruptDataError, GitError, LimitExceededError } from "../../../src/git/errors.ts";
import { rawDelta, sizeVarint } from "./support.ts";

function expectError(run: () => unknown, type: typeof CorruptDataError | typeof LimitExceededError, code: string): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(type);
  expect((thrown as GitError).code).toBe(code);
}

const encoder = new TextEncoder();
const base = encoder.encode("0123456789abcdefghijklmnopqrstuvwxyz");

describe("readDeltaHeader", () => {
  test("reads both sizes and where the instructions start", () => {
    const delta = rawDelta(300, 2 ** 32 + 5, [0x80]);
    expect(readDeltaHeader(delta)).toEqual({ baseSize: 300, resultSize: 2 ** 32 + 5, headerLength: sizeVarint(300).length + sizeVarint(2 ** 32 + 5).length });
    expect(readDeltaHeader(Uint8Array.of(0, 0))).toEqual({ baseSize: 0, resultSize: 0, headerLength: 2 });
  });

  test("a truncated header is corrupt", () => {
    for (const bytes of [[], [5], [0x80], [5, 0x81], [0x85, 0x80]]) {
      expectError(() => readDeltaHeader(Uint8Array.from(bytes)), CorruptDataError, "delta.truncated");
    }
  });

  test("a size varint longer than eight bytes is corrupt", () => {
    expectError(() => readDeltaHeader(Uint8Array.from([...Array(9).fill(0x80), 1, 0])), CorruptDataError, "delta.header");
  });
});

describe("applyDelta on hand-written deltas", () => {
  test("copies and inserts", () => {
    // copy 4 bytes at offset 10 ("abcd"), insert "--", copy 3 bytes at 0
    const delta = rawDelta(base.length, 9, [0x91, 10, 4, 2, 0x2d, 0x2d, 0x90, 3]);
    expect(new TextDecoder().decode(applyDelta(base, delta))).toBe("abcd--012");
  });

  test("all four offset bytes and all three size bytes, zero bytes included", () => {
    const big = new Uint8Array(0x100_0010 + 0x200).map((_, i) => i * 13);
    const delta = rawDelta(big.length, 0x102, [0xff, 0x10, 0x00, 0x00, 0x01, 0x02, 0x01, 0x00]);
    expect(applyDelta(big, delta)).toEqual(big.subarray(0x100_0010, 0x100_0010 + 0x102));
  });

  test("a copy without size bytes copies 0x10000 bytes", () => {
    const exact = new Uint8Array(0x10000).map((_, i) => i * 7);
    expect(applyDelta(exact, rawDelta(exact.length, 0x10000, [0x80]))).toEqual(exact);
    expectError(() => applyDelta(exact.subarray(1), rawDelta(0xffff, 0x10000, [0x80, 0x80])), CorruptDataError, "delta.copy-range");
  });

  test("an empty result", () => {
    expect(applyDelta(base, rawDelta(base.length, 0, []))).toEqual(new Uint8Array(0));
  });
});

describe("applyDelta refuses hostile deltas", () => {
  test("copy outside the base", () => {
    expectError(() => applyDelta(base, rawDelta(base.length, 5, [0x91, 34, 5])), CorruptDataError, "delta.copy-range");
    expectError(() => applyDelta(base, rawDelta(base.length, 1, [0x98, 0xff, 1])), CorruptDataError, "delta.copy-range");
  });

  test("insert past the end of the delta", () => {
    expectError(() => applyDelta(base, rawDelta(base.length, 10, [10, 1, 2, 3])), CorruptDataError, "delta.truncated");
  });

  test("copy operands missing at the end", () => {
    expectError(() => applyDelta(base, rawDelta(base.length, 4, [0x91, 3])), CorruptDataError, "delta.truncated");
  });

  test("reserved opcode 0", () => {
    expectError(() => applyDelta(base, rawDelta(base.length, 2, [1, 65, 0, 1, 66])), CorruptDataError, "delta.opcode");
  });

  test("truncated header", () => {
    expectError(() => applyDelta(base, Uint8Array.of(0xa4)), CorruptDataError, "delta.truncated");
  });

  test("base size mismatch", () => {
    expectError(() => applyDelta(base, rawDelta(base.length + 1, 1, [0x90, 1])), CorruptDataError, "delta.base-size");
    expectError(() => applyDelta(base.subarray(1), rawDelta(base.length, 1, [0x90, 1])), CorruptDataError, "delta.base-size");
  });

  test("a declared result of 4 GiB is refused before allocating", () => {
    const huge = rawDelta(base.length, 2 ** 32, [0x80]);
    expectError(() => applyDelta(base, huge), LimitExceededError, "delta.result-size");
    expectError(() => applyDelta(base, huge, 1 << 20), LimitExceededError, "delta.result-size");
  });

  test("a declared result the instructions cannot produce is refused before allocating", () => {
    expectError(() => applyDelta(base, rawDelta(base.length, 2 ** 31, [0x90, 1, 0x90, 1])), CorruptDataError, "delta.result-size");
  });

  test("result size mismatch, short or long", () => {
    expectError(() => applyDelta(base, rawDelta(base.length, 5, [0x90, 4])), CorruptDataError, "delta.result-size");
    expectError(() => applyDelta(base, rawDelta(base.length, 3, [0x90, 4])), CorruptDataError, "delta.result-size");
    expectError(() => applyDelta(base, rawDelta(base.length, 3, [2, 65, 66, 2, 67, 68])), CorruptDataError, "delta.result-size");
  });

  test("a result above the caller's limit", () => {
    expectError(() => applyDelta(base, rawDelta(base.length, 20, [0x90, 20]), 19), LimitExceededError, "delta.result-size");
    expect(applyDelta(base, rawDelta(base.length, 20, [0x90, 20]), 20).length).toBe(20);
  });
});
