import { describe, expect, test } from "bun:test";
import { applyDelta, readDeltaHeader } from "../../../src/git/delta/apply.ts";
import { createDelta, DeltaIndex } from "../../../src/git/delta/create.ts";
import { concat, EDIT_NAMES, EDITS, editRandomly, randomBytes, randomInt, randomText, seededRandom, sizeVarint } from "./support.ts";

/** Byte equality with a readable failure (toEqual on megabyte arrays prints megabytes). */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  const equal = Buffer.compare(Buffer.from(actual.buffer, actual.byteOffset, actual.length), Buffer.from(expected.buffer, expected.byteOffset, expected.length)) === 0;
  if (!equal) {
    let first = 0;
    while (first < actual.length && actual[first] === expected[first]) first++;
    throw new Error(`bytes differ: lengths ${actual.length} and ${expected.length}, first difference at ${first}`);
  }
}

function roundTrip(base: Uint8Array, target: Uint8Array): Uint8Array {
  const delta = createDelta(base, target);
  if (!delta) throw new Error("createDelta without a bound must always give a delta");
  const header = readDeltaHeader(delta);
  expect(header.baseSize).toBe(base.length);
  expect(header.resultSize).toBe(target.length);
  expectSameBytes(applyDelta(base, delta), target);
  return delta;
}

describe("applyDelta(base, createDelta(base, target)) is target", () => {
  const sizes = [0, 1, 15, 16, 17, 31, 100, 1000, 5000, 70_000];
  for (const edit of EDIT_NAMES) {
    test(`${edit}, on text and binary bases of ${sizes.join(", ")} bytes`, () => {
      const random = seededRandom(EDIT_NAMES.indexOf(edit) + 1);
      for (const size of sizes) {
        for (let seed = 0; seed < 3; seed++) {
          const binary = randomBytes(random, size);
          roundTrip(binary, EDITS[edit](random, binary));
          const text = randomText(random, Math.ceil(size / 50)).subarray(0, size);
          roundTrip(text, EDITS[edit](random, text));
        }
      }
    });
  }

  test("chains of edits on text files", () => {
    const random = seededRandom(99);
    for (let i = 0; i < 150; i++) {
      const base = randomText(random, 1 + randomInt(random, 400));
      roundTrip(base, editRandomly(random, base, 1 + randomInt(random, 10)));
    }
  });

  test("empty and one-byte inputs", () => {
    const empty = new Uint8Array(0);
    const one = Uint8Array.of(42);
    const other = Uint8Array.of(7);
    for (const [base, target] of [
      [empty, empty],
      [empty, one],
      [one, empty],
      [one, one],
      [one, other],
      [empty, randomBytes(seededRandom(1), 1000)],
      [randomBytes(seededRandom(2), 1000), empty],
    ]) {
      roundTrip(base, target);
    }
    expect(createDelta(empty, empty)).toEqual(Uint8Array.of(0, 0));
  });

  test("runs of one byte and periodic data", () => {
    const random = seededRandom(5);
    const zeros = new Uint8Array(100_000);
    const pattern = concat(...Array.from({ length: 3000 }, () => randomBytes(seededRandom(6), 32)));
    for (const base of [zeros, pattern]) {
      const delta = roundTrip(base, base);
      expect(delta.length).toBeLessThan(16);
      roundTrip(base, EDITS.overwrite(random, base));
      roundTrip(base, EDITS.repeat(random, base));
      roundTrip(base, zeros.subarray(0, 77_777));
    }
  });
});

describe("copy instructions", () => {
  test("an identical 200 KiB target is one copy with three size bytes", () => {
    const base = randomBytes(seededRandom(3), 200 * 1024);
    const delta = roundTrip(base, base);
    // 204800 = 0x032000: opcode 0x80 | size bytes 1 and 2; no offset bytes, no zero bytes
    expect(Array.from(delta)).toEqual([...sizeVarint(base.length), ...sizeVarint(base.length), 0xe0, 0x20, 0x03]);
  });

  test("a copy of exactly 0x10000 bytes carries no size bytes", () => {
    const base = randomBytes(seededRandom(4), 0x10000 + 100);
    const target = base.subarray(0, 0x10000);
    expect(Array.from(roundTrip(base, target))).toEqual([...sizeVarint(base.length), ...sizeVarint(0x10000), 0x80]);
  });

  test("a match longer than one instruction can hold is split", () => {
    const base = new Uint8Array(0xffffff + 1000);
    base.fill(9, 0xffffff);
    const delta = roundTrip(base, base);
    expect(delta.length).toBeLessThan(24);
  });

  test("a moved block is copied from its old place", () => {
    const random = seededRandom(8);
    const [a, b, c] = [randomBytes(random, 3000), randomBytes(random, 3000), randomBytes(random, 3000)];
    const delta = roundTrip(concat(a, b, c), concat(c, a, b));
    expect(delta.length).toBeLessThan(40);
  });
});

describe("DeltaIndex", () => {
  test("a reused index gives the same deltas as fresh ones", () => {
    const random = seededRandom(11);
    const base = randomText(random, 300);
    const index = new DeltaIndex(base);
    for (let i = 0; i < 40; i++) {
      const target = editRandomly(random, base, 1 + randomInt(random, 5));
      expect(index.createDelta(target)).toEqual(createDelta(base, target)!);
    }
  });

  test("small edits give small deltas", () => {
    const random = seededRandom(12);
    const base = randomText(random, 400);
    const target = EDITS.overwrite(random, base);
    expect(roundTrip(base, target).length).toBeLessThan(base.length / 20);
  });

  test("maxDeltaSize: a delta of exactly the bound is kept, one byte less gives up", () => {
    const random = seededRandom(13);
    for (let i = 0; i < 200; i++) {
      const base = i % 2 ? randomText(random, 1 + randomInt(random, 200)) : randomBytes(random, randomInt(random, 5000));
      const target = editRandomly(random, base, 1 + randomInt(random, 6));
      const index = new DeltaIndex(base);
      const delta = index.createDelta(target)!;
      expect(index.createDelta(target, delta.length)).toEqual(delta);
      expect(index.createDelta(target, delta.length - 1)).toBeUndefined();
    }
  });

  test("an unrelated target is abandoned under a bound", () => {
    const random = seededRandom(14);
    const index = new DeltaIndex(randomBytes(random, 100_000));
    const target = randomBytes(random, 100_000);
    expect(index.createDelta(target, 50_000)).toBeUndefined();
    expect(index.createDelta(target, 0)).toBeUndefined();
    expect(index.createDelta(target)!.length).toBeGreaterThan(100_000);
  });
});
