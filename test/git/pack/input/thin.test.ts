import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MissingObjectError } from "../../../../src/git/errors.ts";
import { encodePackIndex } from "../../../../src/git/idxfile/index.ts";
import type { ObjectReader } from "../../../../src/git/object/object.ts";
import { indexPack } from "../../../../src/git/pack/input/index.ts";
import { git, gitText, tempDir } from "../../../support/git.ts";
import { CODECS } from "../../codecs.ts";
import { gitIndexPack, repoFixture, repositoryReader, showIndex, withPackFile } from "./fixtures.ts";

/** `git pack-objects --thin` for the revisions on stdin (with negative ones): REF_DELTAs to bases outside the pack. */
function thinPack(gitDir: string, revs: string): Uint8Array {
  return git(["pack-objects", "--thin", "--stdout", "--revs", "--delta-base-offset", "-q"], { cwd: gitDir, input: revs }).stdout;
}

/** The .idx of `git index-pack --stdin --fix-thin`'s completion of `thin` against the repository. */
function gitFixThin(thin: Uint8Array, gitDir: string): Uint8Array {
  const dir = tempDir();
  try {
    git(["index-pack", "--stdin", "--fix-thin", join(dir.path, "fixed.pack")], { cwd: gitDir, input: thin });
    return new Uint8Array(readFileSync(join(dir.path, "fixed.idx")));
  } finally {
    dir.cleanup();
  }
}

describe.each(CODECS)("thin packs (%s)", (_, codec) => {
  const fixture = repoFixture();
  const repository = repositoryReader(fixture.gitDir);

  describe.each([
    ["the last 40 commits", "main\n^main~40\n"],
    ["between two tags", "v1500\n^v1000\n"],
  ])("%s", (_, revs) => {
    const thin = thinPack(fixture.gitDir, revs);

    test("is completed with its bases into a pack that git index-pack --strict and verify-pack accept", () => {
      const indexed = indexPack(thin, { codec, thinBases: repository });
      expect(indexed.appendedBases.length).toBeGreaterThan(0);
      expect(indexed.pack.length).toBeGreaterThan(thin.length);
      const ourIdx = encodePackIndex(indexed.entries, indexed.packChecksum, codec);
      // --strict checks every object and that everything it links to exists (in the repository).
      expect(gitIndexPack(indexed.pack, ["--strict"], fixture.gitDir)).toEqual(ourIdx);
      withPackFile(indexed.pack, (packPath) => {
        git(["index-pack", packPath]);
        expect(gitText(["verify-pack", packPath.replace(/\.pack$/, ".idx")])).toBe("");
      });
      // The completed pack stands alone.
      expect(indexPack(indexed.pack, { codec }).entries).toEqual(indexed.entries);
    });

    test("holds the same objects as git index-pack --fix-thin's completion", () => {
      const indexed = indexPack(thin, { codec, thinBases: repository });
      const gitFixed = showIndex(gitFixThin(thin, fixture.gitDir)).map((entry) => entry.oid);
      expect(indexed.entries.map((entry) => entry.oid)).toEqual(gitFixed);
      for (const oid of indexed.appendedBases) expect(repository.hasObject(oid)).toBe(true);
    });

    test("without its bases, it is refused with the id of a missing base", () => {
      expect(() => indexPack(thin, { codec })).toThrow(MissingObjectError);
      const { appendedBases } = indexPack(thin, { codec, thinBases: repository });
      const withheld = appendedBases[appendedBases.length - 1];
      const partial: ObjectReader = {
        hasObject: (oid) => oid !== withheld && repository.hasObject(oid),
        readObject: (oid) => (oid === withheld ? undefined : repository.readObject(oid)),
      };
      let caught: unknown;
      try {
        indexPack(thin, { codec, thinBases: partial });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(MissingObjectError);
      expect((caught as MissingObjectError).oid).toBe(withheld);
    });
  });
});
