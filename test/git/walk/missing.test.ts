import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nativeCodec } from "../../../src/git/codec/index.ts";
import type { Oid } from "../../../src/git/oid.ts";
import { findMissing, type WalkReader } from "../../../src/git/walk/index.ts";
import { git, gitText, tempDir } from "../../support/git.ts";
import { openDatabase, readPacks } from "../odb/repository.ts";
import { history } from "./history.ts";

const gitDir = history({ commits: 400, files: 60, edits: 2, topicEvery: 25 });
const database = openDatabase(gitDir, nativeCodec);
const resolve = (name: string): Oid => gitText(["rev-parse", name], { cwd: gitDir });

/** The repository unpacked into loose objects, so single objects can be deleted. */
const loose = tempDir();
afterAll(() => loose.cleanup());
git(["init", "-q", "--bare", loose.path]);
git(["unpack-objects", "-q"], { cwd: loose.path, input: readPacks(gitDir)[0].pack });
git(["fetch", "-q", gitDir, "refs/heads/*:refs/heads/*"], { cwd: loose.path });

/** The database with some objects hidden, as if they had never been pushed. */
function without(hidden: Oid[]): WalkReader {
  const gone = new Set(hidden);
  return {
    hasObject: (oid) => !gone.has(oid) && database.hasObject(oid),
    readObject: (oid) => (gone.has(oid) ? undefined : database.readObject(oid)),
    readInfo: (oid) => (gone.has(oid) ? undefined : database.readInfo(oid)),
  };
}

/** `git rev-list --objects --missing=print TIPS --not COMPLETE` on the loose copy with `hidden` deleted. */
function gitMissing(hidden: Oid[], tips: Oid[], complete: Oid[]): Oid[] {
  const paths = hidden.map((oid) => join(loose.path, "objects", oid.slice(0, 2), oid.slice(2)));
  const saved = paths.map((path) => readFileSync(path));
  for (const path of paths) rmSync(path);
  try {
    const out = gitText(["rev-list", "--objects", "--missing=print", ...tips, "--not", ...complete], { cwd: loose.path });
    return out.split("\n").filter((line) => line.startsWith("?")).map((line) => line.slice(1));
  } finally {
    paths.forEach((path, i) => writeFileSync(path, saved[i]));
  }
}

function compare(hidden: Oid[], tips: Oid[], complete: Oid[]): Oid[] {
  const ours = findMissing(without(hidden), tips, complete);
  expect([...ours].sort()).toEqual(gitMissing(hidden, tips, complete).sort());
  return ours;
}

describe("findMissing equals git rev-list --objects --missing=print", () => {
  test("a connected push has nothing missing", () => {
    expect(findMissing(database, [resolve("main"), resolve("topic13")], [resolve("main~10")])).toEqual([]);
    expect(findMissing(database, [resolve("main")], [])).toEqual([]);
  });

  test("a deleted tree of the new tip is found once, whatever else reaches it", () => {
    const tree = resolve("main:notes/deep");
    compare([tree], [resolve("main")], [resolve("main~1")]);
    expect(compare([tree], [resolve("main")], [])).toEqual([tree]);
  });

  test("a deleted blob changed by the new commits is found; one the complete side has is not looked for", () => {
    const changed = gitText(["diff-tree", "-r", "--no-commit-id", "--format=", "main~1", "main"], { cwd: gitDir })
      .split("\n")
      .map((line) => line.split(" ")[3]);
    const unchanged = resolve("main:link");
    expect(compare([changed[0]], [resolve("main")], [resolve("main~1")])).toEqual([changed[0]]);
    expect(compare([unchanged], [resolve("main")], [resolve("main~1")])).toEqual([]);
    expect(compare([unchanged, changed[0]], [resolve("main")], [resolve("main~3")])).toEqual([changed[0]]);
  });

  test("a deleted root tree and a deleted subtree under it", () => {
    const root = resolve("main^{tree}");
    expect(compare([root, resolve("main:notes")], [resolve("main")], [resolve("main~1")])).toEqual([root]);
  });
});

describe("findMissing on missing commits", () => {
  test("a missing parent below the new commits is reported; one below the complete tips is not", () => {
    const hidden = resolve("main~3");
    expect(findMissing(without([hidden]), [resolve("main")], [resolve("main~10")])).toEqual([hidden]);
    expect(findMissing(without([hidden]), [resolve("main")], [resolve("main~2")])).toEqual([]);
    expect(findMissing(without([resolve("main")]), [resolve("main")], [])).toEqual([resolve("main")]);
  });

  test("a tag whose target is missing", () => {
    const target = resolve("v350^{commit}");
    expect(findMissing(without([target]), [resolve("v350")], [resolve("v300")])).toEqual([target]);
  });
});
