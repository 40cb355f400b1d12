import { expect, test } from "bun:test";
import { applyDelta, readDeltaHeader } from "../../../src/git/delta/apply.ts";
import { createDelta } from "../../../src/git/delta/create.ts";
import { CorruptDataError, LimitExceededError } from "../../../src/git/errors.ts";
import { concat, editRandomly, randomBytes, randomInt, randomText, seededRandom, type Random } from "./support.ts";

const MAX_RESULT = 1 << 20;

/** Flips, overwrites, truncates, inserts, duplicates or deletes a few bytes of a valid delta. */
function mutate(random: Random, delta: Uint8Array): Uint8Array {
  const at = randomInt(random, delta.length + 1);
  switch (randomInt(random, 6)) {
    case 0: {
      const out = delta.slice();
      for (let i = 0, n = 1 + randomInt(random, 4); i < n && out.length > 0; i++) out[randomInt(random, out.length)] ^= 1 << randomInt(random, 8);
      return out;
    }
    case 1: {
      const out = delta.slice();
      if (out.length > 0) out[randomInt(random, out.length)] = randomInt(random, 256);
      return out;
    }
    case 2:
      return delta.slice(0, at);
    case 3:
      return concat(delta.subarray(0, at), randomBytes(random, 1 + randomInt(random, 8)), delta.subarray(at));
    case 4:
      return concat(delta.subarray(0, at), delta.subarray(randomInt(random, delta.length)));
    default:
      return concat(delta.subarray(0, at), delta.subarray(Math.min(delta.length, at + 1 + randomInt(random, 8))));
  }
}

/** Success with a result of the declared size, or a typed error: nothing else. */
function applyOrTypedError(base: Uint8Array, delta: Uint8Array): "ok" | "error" {
  try {
    const result = applyDelta(base, delta, MAX_RESULT);
    expect(result.length).toBe(readDeltaHeader(delta).resultSize);
    return "ok";
  } catch (error) {
    if (error instanceof CorruptDataError || error instanceof LimitExceededError) return "error";
    throw error;
  }
}

test("mutated valid deltas give a result or a typed error", () => {
  const random = seededRandom(2024);
  const outcomes = { ok: 0, error: 0 };
  for (let pair = 0; pair < 60; pair++) {
    const base = pair % 3 === 0 ? randomBytes(random, randomInt(random, 3000)) : randomText(random, 1 + randomInt(random, 60));
    const target = editRandomly(random, base, 1 + randomInt(random, 4));
    const delta = createDelta(base, target)!;
    for (let i = 0; i < 80; i++) {
      let mutated = mutate(random, delta);
      if (i % 4 === 0) mutated = mutate(random, mutated);
      outcomes[applyOrTypedError(i % 10 === 0 ? base.subarray(1) : base, mutated)]++;
    }
  }
  // Both outcomes occur: the mutations do reach past the header checks.
  expect(outcomes.ok).toBeGreaterThan(100);
  expect(outcomes.error).toBeGreaterThan(1000);
});

test("random bytes as a delta give a result or a typed error", () => {
  const random = seededRandom(7);
  const base = randomBytes(random, 300);
  for (let i = 0; i < 3000; i++) {
    const garbage = randomBytes(random, randomInt(random, 40));
    if (i % 2 === 0 && garbage.length > 2) {
      // a plausible header, so the instructions get parsed
      garbage[0] = 0xac;
      garbage[1] = 0x02;
      garbage[2] &= 0x7f;
    }
    applyOrTypedError(base, garbage);
  }
});
