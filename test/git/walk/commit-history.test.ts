import { describe, expect, test } from "bun:test";
import { nativeCodec } from "../../../src/git/codec/index.ts";
import { commitHistory } from "../../../src/git/walk/index.ts";
import { gitText } from "../../support/git.ts";
import { openDatabase } from "../odb/repository.ts";
import { history } from "./history.ts";

const gitDir = history({ commits: 400, files: 60, edits: 2, topicEvery: 25 });
const database = openDatabase(gitDir, nativeCodec);
const tip = gitText(["rev-parse", "main"], { cwd: gitDir });

function gitLog(args: string[]): string[] {
  const out = gitText(["log", "--format=%H", ...args], { cwd: gitDir });
  return out === "" ? [] : out.split("\n");
}

describe("commitHistory equals git log (default simplification)", () => {
  test("the whole history and its first commits, newest first", () => {
    expect(commitHistory(database, tip, { limit: 10_000 })).toEqual(gitLog(["main"]));
    expect(commitHistory(database, tip, { limit: 7 })).toEqual(gitLog(["-n", "7", "main"]));
  });

  test("commits that changed a file or a directory, merges followed through the parent that kept it", () => {
    const files = gitText(["ls-tree", "-r", "--name-only", "main"], { cwd: gitDir }).split("\n");
    const paths = [...files.filter((_, i) => i % 9 === 0), "notes", "notes/deep", "area3/sub0", "missing.md", "notes/missing/x.md"];
    let nonEmpty = 0;
    for (const path of paths) {
      const expected = gitLog(["main", "--", path]);
      if (expected.length > 0) nonEmpty++;
      expect({ path, commits: commitHistory(database, tip, { path, limit: 10_000 }) }).toEqual({ path, commits: expected });
      expect(commitHistory(database, tip, { path, limit: 3 })).toEqual(expected.slice(0, 3));
    }
    expect(nonEmpty).toBeGreaterThan(5);
  });
});
