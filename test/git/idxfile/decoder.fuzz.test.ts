import { describe, expect, test } from "bun:test";
import type { Codec } from "../../../src/git/codec/codec.ts";
import { CorruptDataError } from "../../../src/git/errors.ts";
import { decodePackIndex, encodePackIndex } from "../../../src/git/idxfile/index.ts";
import { seededRandom } from "../../support/random.ts";
import { CODECS } from "../codecs.ts";
import { repoFixture, showIndex } from "../pack/input/fixtures.ts";
import { resealed } from "../pack/input/pack-builder.ts";

const ITERATIONS = 400;

/** Either a typed refusal, or an index whose every answer is consistent with itself. */
function decodeOrRefuse(codec: Codec, bytes: Uint8Array): "ok" | "refused" {
  let index;
  try {
    index = decodePackIndex(bytes, codec);
  } catch (error) {
    expect(error).toBeInstanceOf(CorruptDataError);
    return "refused";
  }
  for (let position = 0; position < index.objectCount; position++) {
    expect(index.findPosition(index.oidAt(position))).toBe(position);
    expect(index.offsetAt(position)).toBeGreaterThanOrEqual(12);
    expect(Number.isSafeInteger(index.offsetAt(position))).toBe(true);
    index.crc32At(position);
  }
  return "ok";
}

describe.each(CODECS)("decodePackIndex fuzz (%s)", (_, codec) => {
  const entries = showIndex(repoFixture().idx).filter((_, i) => i % 100 === 0);
  entries.push({ oid: "fe".repeat(20), offset: 2 ** 33, crc32: 7 });
  const original = encodePackIndex(entries, "01".repeat(20), codec);

  test("mutated and truncated indexes are refused with CorruptDataError or read consistently", () => {
    const random = seededRandom(20240607);
    const outcomes = { ok: 0, refused: 0 };
    for (let i = 0; i < ITERATIONS; i++) {
      let bytes: Uint8Array = original.slice();
      const mode = random();
      if (mode < 0.2) {
        bytes = bytes.slice(0, Math.floor(random() * bytes.length));
      } else {
        for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) {
          // Aim most mutations at the header, fan-out and offset tables, where structure lives.
          const at = random() < 0.5 ? Math.floor(random() * 1032) : Math.floor(random() * bytes.length);
          bytes[at] = Math.floor(random() * 256);
        }
        // Recomputing the checksum lets the mutation reach the structural checks.
        if (mode < 0.9) bytes = resealed(codec, bytes);
      }
      outcomes[decodeOrRefuse(codec, bytes)]++;
    }
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.ok).toBeGreaterThan(0);
  });
});
