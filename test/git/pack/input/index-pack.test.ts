import { describe, expect, test } from "bun:test";
import { encodePackIndex } from "../../../../src/git/idxfile/index.ts";
import { indexPack } from "../../../../src/git/pack/input/index.ts";
import { oidToHex } from "../../../../src/git/oid.ts";
import { PackObjectKind } from "../../../../src/git/pack/format.ts";
import { bytesToEntries } from "../../../../src/git/pack/input/bytes-to-entries.ts";
import { DEFAULT_PACK_LIMITS } from "../../../../src/git/pack/types.ts";
import { git } from "../../../support/git.ts";
import { CODECS } from "../../codecs.ts";
import { gitIndexPack, objectSizes, repoFixture, showIndex } from "./fixtures.ts";

describe.each(CODECS)("indexPack against git (%s)", (_, codec) => {
  const fixture = repoFixture();

  test("every id, offset and CRC equals git show-index; every type and size equals git cat-file's", () => {
    const indexed = indexPack(fixture.pack, { codec });
    expect(indexed.pack).toBe(fixture.pack);
    expect(indexed.appendedBases).toEqual([]);
    expect(indexed.packChecksum).toBe(oidToHex(fixture.pack, fixture.pack.length - 20));
    expect(indexed.entries.map(({ oid, offset, crc32 }) => ({ oid, offset, crc32 }))).toEqual(showIndex(fixture.idx));
    const sizes = objectSizes(fixture.gitDir);
    expect(indexed.entries.length).toBe(sizes.size);
    for (const entry of indexed.entries) expect(sizes.get(entry.oid)).toEqual({ type: entry.type, size: entry.size });
  });

  test("the .idx written from the entries is byte-identical to git index-pack's", () => {
    const indexed = indexPack(fixture.pack, { codec });
    expect(encodePackIndex(indexed.entries, indexed.packChecksum, codec)).toEqual(fixture.idx);
  });

  test("a pack of REF_DELTAs (no --delta-base-offset) indexes as git does", () => {
    const pack = git(["pack-objects", "--stdout", "--revs", "-q"], { cwd: fixture.gitDir, input: "main~1500\n" }).stdout;
    const { kinds } = bytesToEntries(pack, codec, DEFAULT_PACK_LIMITS);
    expect(kinds.filter((kind) => kind === PackObjectKind.RefDelta).length).toBeGreaterThan(1000);
    const indexed = indexPack(pack, { codec });
    expect(encodePackIndex(indexed.entries, indexed.packChecksum, codec)).toEqual(gitIndexPack(pack));
  });

  test("the same pack indexes to the same result every time (no state leaks between runs)", () => {
    const first = indexPack(fixture.pack, { codec });
    const second = indexPack(fixture.pack, { codec });
    expect(second.entries).toEqual(first.entries);
  });
});
