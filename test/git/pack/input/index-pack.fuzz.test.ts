import { describe, expect, test } from "bun:test";
import type { Codec } from "../../../../src/git/codec/codec.ts";
import { CorruptDataError, LimitExceededError, MissingObjectError } from "../../../../src/git/errors.ts";
import type { ObjectReader } from "../../../../src/git/object/object.ts";
import { indexPack } from "../../../../src/git/pack/input/index.ts";
import { git } from "../../../support/git.ts";
import { seededRandom } from "../../../support/random.ts";
import { CODECS } from "../../codecs.ts";
import { repoFixture, repositoryReader } from "./fixtures.ts";
import { resealed } from "./pack-builder.ts";

const ITERATIONS = 250;

function mutate(codec: Codec, original: Uint8Array, random: () => number): Uint8Array {
  const at = () => Math.floor(random() * original.length);
  const mode = random();
  if (mode < 0.15) return original.slice(0, at());
  if (mode < 0.25) {
    const cut = at();
    const grown = new Uint8Array(original.length + 1);
    grown.set(original.subarray(0, cut));
    grown[cut] = Math.floor(random() * 256);
    grown.set(original.subarray(cut), cut + 1);
    return resealed(codec, grown);
  }
  const bytes = original.slice();
  for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips--) {
    // Entry headers sit near entry starts; bias some mutations to the first bytes of the pack.
    bytes[random() < 0.3 ? Math.floor(random() * Math.min(64, bytes.length)) : at()] = Math.floor(random() * 256);
  }
  // Resealing lets most mutations get past the trailer check into delta resolution.
  return random() < 0.8 ? resealed(codec, bytes) : bytes;
}

describe.each(CODECS)("indexPack fuzz (%s)", (_, codec) => {
  const fixture = repoFixture();
  const repository = repositoryReader(fixture.gitDir);
  const packOf = (args: string[], revs: string) => git(["pack-objects", "--stdout", "--revs", "-q", ...args], { cwd: fixture.gitDir, input: revs }).stdout;

  describe.each([
    ["OFS_DELTA pack", ["--delta-base-offset"], "main~1985\n", undefined],
    ["REF_DELTA pack", [], "main~1985\n", undefined],
    ["thin pack", ["--thin"], "main\n^main~6\n", repository],
  ] as [string, string[], string, ObjectReader | undefined][])("%s", (_, args, revs, thinBases) => {
    const original = packOf(args, revs);

    test("mutated and truncated copies are indexed or refused with a typed error", () => {
      expect(indexPack(original, { codec, thinBases }).entries.length).toBeGreaterThan(20);
      const random = seededRandom(args.length * 1000 + revs.length);
      const outcomes = { indexed: 0, refused: 0 };
      for (let i = 0; i < ITERATIONS; i++) {
        try {
          indexPack(mutate(codec, original, random), { codec, thinBases });
          outcomes.indexed++;
        } catch (error) {
          if (!(error instanceof CorruptDataError || error instanceof LimitExceededError || error instanceof MissingObjectError)) throw error;
          outcomes.refused++;
        }
      }
      expect(outcomes.refused).toBeGreaterThan(ITERATIONS / 2);
    });
  });
});
