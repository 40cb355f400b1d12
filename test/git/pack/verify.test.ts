import { describe, expect, test } from "bun:test";
import { CorruptDataError } from "../../../src/git/errors.ts";
import { encodePackIndex } from "../../../src/git/idxfile/index.ts";
import { indexPack } from "../../../src/git/pack/input/index.ts";
import { verifyPack } from "../../../src/git/pack/verify.ts";
import { git, gitText } from "../../support/git.ts";
import { CODECS } from "../codecs.ts";
import { objectSizes, repoFixture, showIndex } from "./input/fixtures.ts";
import { expectGitError, resealed } from "./input/pack-builder.ts";

function expectMismatch(run: () => unknown, code: string): void {
  expectGitError(run, CorruptDataError, code);
}

/** `git verify-pack -s`: "non delta: N objects" and "chain length = L: N objects" rows. */
function gitChainLengths(packPath: string): number[] {
  const lengths: number[] = [];
  for (const row of gitText(["verify-pack", "-s", packPath]).split("\n")) {
    const nonDelta = /^non delta: (\d+) objects?/.exec(row);
    if (nonDelta) lengths[0] = Number(nonDelta[1]);
    const chain = /^chain length = (\d+): (\d+) objects?/.exec(row);
    if (chain) lengths[Number(chain[1])] = Number(chain[2]);
  }
  return Array.from(lengths, (count) => count ?? 0);
}

describe.each(CODECS)("verifyPack (%s)", (_, codec) => {
  const fixture = repoFixture();
  const listed = showIndex(fixture.idx);
  const { packChecksum } = indexPack(fixture.pack, { codec });

  test("accepts git's pack and index and reports what git verify-pack -s reports", () => {
    const result = verifyPack(fixture.pack, fixture.idx, codec);
    const chainLengths = gitChainLengths(fixture.packPath);
    expect(result.chainLengths).toEqual(chainLengths);
    expect(result.maxChainLength).toBe(chainLengths.length - 1);
    expect(result.objectCount).toBe(listed.length);
    expect(result.deltaCount).toBe(listed.length - chainLengths[0]);
    const byType = { commit: 0, tree: 0, blob: 0, tag: 0 };
    for (const { type } of objectSizes(fixture.gitDir).values()) byType[type as keyof typeof byType]++;
    expect(result.objectsByType).toEqual(byType);
  });

  test("refuses an index of another pack", () => {
    const other = git(["pack-objects", "--stdout", "--revs", "-q"], { cwd: fixture.gitDir, input: "main~1990\n" }).stdout;
    const otherIndexed = indexPack(other, { codec });
    expectMismatch(() => verifyPack(fixture.pack, encodePackIndex(otherIndexed.entries, otherIndexed.packChecksum, codec), codec), "verify.pack-checksum");
  });

  test("refuses an index that lacks an object, or lists one the pack lacks", () => {
    expectMismatch(() => verifyPack(fixture.pack, encodePackIndex(listed.slice(1), packChecksum, codec), codec), "verify.object-count");
    const replaced = listed.slice();
    replaced[0] = { ...replaced[0], oid: "00".repeat(20) };
    expectMismatch(() => verifyPack(fixture.pack, encodePackIndex(replaced, packChecksum, codec), codec), "verify.oid");
  });

  test("refuses wrong offsets or CRCs even when the index checksum is right", () => {
    const swapped = listed.map((entry, i) => (i === 0 ? { ...entry, offset: listed[1].offset } : i === 1 ? { ...entry, offset: listed[0].offset } : entry));
    expectMismatch(() => verifyPack(fixture.pack, encodePackIndex(swapped, packChecksum, codec), codec), "verify.offset");
    const crcAt = 8 + 1024 + listed.length * 20 + 4 * 7;
    const badCrc = fixture.idx.slice();
    badCrc[crcAt] ^= 0x40;
    expectMismatch(() => verifyPack(fixture.pack, resealed(codec, badCrc), codec), "verify.crc");
    expectMismatch(() => verifyPack(fixture.pack, badCrc, codec), "idx.checksum");
  });

  test("refuses a corrupt pack or a pack that is not self-contained", () => {
    const corrupt = fixture.pack.slice();
    corrupt[5000] ^= 0xff;
    expect(() => verifyPack(corrupt, fixture.idx, codec)).toThrow(CorruptDataError);
    const thin = git(["pack-objects", "--thin", "--stdout", "--revs", "-q"], { cwd: fixture.gitDir, input: "main\n^main~3\n" }).stdout;
    expectMismatch(() => verifyPack(thin, encodePackIndex([], "00".repeat(20), codec), codec), "verify.unresolved-delta");
  });
});
