import { afterAll, expect, test } from "bun:test";
import { nativeCodec } from "../../../src/git/codec/index.ts";
import { decodePackIndex, encodePackIndex } from "../../../src/git/idxfile/index.ts";
import { commitTreeAndParents, parseTag, parseTree, entryObjectType } from "../../../src/git/object/index.ts";
import type { Oid } from "../../../src/git/oid.ts";
import { indexPack } from "../../../src/git/pack/input/index.ts";
import { concatBytes } from "../../../src/git/bytes.ts";
import { concatPacks } from "../../../src/git/pack/output/concat.ts";
import { PackFile } from "../../../src/git/pack/packfile.ts";
import { packReferences, rememberPackReferences } from "../../../src/git/pack/references.ts";
import { packObjectIds } from "../../protocol/response.ts";
import { git, gitText, tempDir } from "../../support/git.ts";

const repo = tempDir("stategit-concat-");
afterAll(() => repo.cleanup());
git(["init", "-q", "-b", "main", repo.path]);
const commits: Oid[] = [];
const lines = Array.from({ length: 60 }, (_, i) => `line ${i} of the memory file, long enough to make deltas worth it`);
for (let i = 0; i < 12; i++) {
  lines[(i * 7) % lines.length] += `, edited in commit ${i}`;
  await Bun.write(`${repo.path}/notes/a.md`, lines.join("\n"));
  await Bun.write(`${repo.path}/notes/b.md`, lines.slice().reverse().join("\n") + `\n${i}`);
  git(["add", "-A"], { cwd: repo.path });
  git(["commit", "-q", "-m", `commit ${i}`], { cwd: repo.path });
  commits.push(gitText(["rev-parse", "HEAD"], { cwd: repo.path }));
}
git(["tag", "-a", "-m", "a tag", "v1", commits[5]], { cwd: repo.path });

/** Every object `include` reaches and `exclude` does not, in one (not thin) pack read as a PackFile. */
function packOf(include: string[], exclude: string[] = []): PackFile {
  const revs = [...include, ...exclude.map((oid) => `^${oid}`)].join("\n") + "\n";
  return packFromBytes(git(["pack-objects", "--stdout", "--revs", "--delta-base-offset", "-q"], { cwd: repo.path, input: revs }).stdout);
}

function packFromBytes(bytes: Uint8Array): PackFile {
  const indexed = indexPack(new Uint8Array(bytes), { codec: nativeCodec });
  const index = decodePackIndex(encodePackIndex(indexed.entries, indexed.packChecksum, nativeCodec), nativeCodec);
  return new PackFile(indexed.pack, index, nativeCodec);
}

function concatenated(packs: PackFile[]): { bytes: Uint8Array; objectCount: number } {
  const pack = concatPacks(packs, nativeCodec);
  return { bytes: concatBytes([...pack.chunks()]), objectCount: pack.objectCount };
}

const idsOf = (...packs: PackFile[]) => [...new Set(packs.flatMap((pack) => [...pack.oids()]))].sort();

test("one pack is sent as it is stored", () => {
  const pack = packOf(["main"]);
  const { bytes, objectCount } = concatenated([pack]);
  expect(bytes).toEqual(pack.fileBytes);
  expect(objectCount).toBe(pack.objectCount);
});

test("packs without common objects are joined whole; git reads every object once", () => {
  const older = packOf([commits[5]]);
  const newer = packOf(["main"], [commits[5]]);
  const { bytes, objectCount } = concatenated([newer, older]);
  expect(objectCount).toBe(older.objectCount + newer.objectCount);
  expect(packObjectIds(bytes)).toEqual(idsOf(older, newer));
  expect(indexPack(bytes, { codec: nativeCodec }).entries.length).toBe(objectCount);
});

test("objects found in a larger pack are left out of a smaller one, deltas on them re-pointed", () => {
  const large = packOf(["main"], [commits[4]]);
  // The old history plus the newest versions of the files: git stores the old versions as deltas on them.
  const newest = ["main:notes/a.md", "main:notes/b.md"].map((name) => `${gitText(["rev-parse", name], { cwd: repo.path })} ${name.slice(5)}`);
  const listed = gitText(["rev-list", "--objects", commits[4]], { cwd: repo.path }) + "\n" + newest.join("\n") + "\n";
  const small = packFromBytes(git(["pack-objects", "--stdout", "--delta-base-offset", "-q"], { cwd: repo.path, input: listed }).stdout);
  expect(small.objectCount).toBeLessThan(large.objectCount);
  const deltasOnLarge = [...small.positionsInPackOrder()].filter((position) => {
    const { header } = small.entryAt(small.index.offsetAt(position));
    return header.kind === 6 && !large.has(small.index.oidAt(position)) && large.has(small.index.oidAt(small.positionAt(header.baseOffset!)));
  });
  expect(deltasOnLarge.length).toBeGreaterThan(0);
  const { bytes, objectCount } = concatenated([small, large]);
  const expected = idsOf(large, small);
  expect(objectCount).toBe(expected.length);
  expect(packObjectIds(bytes)).toEqual(expected);
  expect(indexPack(bytes, { codec: nativeCodec }).entries.map(({ oid }) => oid)).toEqual(expected);
  expect(concatenated([large, packOf([commits[6]], [commits[5]])]).objectCount).toBe(large.objectCount);
});

test("a pack's referenced objects are those its commits, trees and tags name", () => {
  const pack = packOf(["main", "v1"], [commits[3]]);
  const expected = new Set<Oid>();
  for (const oid of pack.oids()) {
    const { type, data } = pack.read(oid)!;
    if (type === "commit") {
      const { tree, parents } = commitTreeAndParents(data);
      for (const target of [tree, ...parents]) expected.add(target);
    } else if (type === "tag") expected.add(parseTag(data).object);
    else if (type === "tree") for (const entry of parseTree(data)) if (entryObjectType(entry.mode) !== "gitlink") expected.add(entry.oid);
  }
  const referenced = packReferences(pack);
  for (let position = 0; position < pack.objectCount; position++) {
    expect(referenced[position] === 1).toBe(expected.has(pack.index.oidAt(position)));
  }
  const roots = [...pack.oids()].filter((oid) => !expected.has(oid));
  expect(roots.sort()).toEqual([gitText(["rev-parse", "main"], { cwd: repo.path }), gitText(["rev-parse", "v1"], { cwd: repo.path })].sort());
  expect(() => rememberPackReferences(pack, new Uint8Array(1))).toThrow(RangeError);
});
