import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CorruptDataError } from "../../../src/git/errors.ts";
import { classifyGitDirFile, parsePackedRefs, parseRefFile } from "../../../src/git/gitdir/index.ts";
import { git, gitText, tempDir } from "../../support/git.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const ID = "0123456789abcdef0123456789abcdef01234567";

describe("parseRefFile", () => {
  test("an id or a symbolic ref, as git writes and reads them", () => {
    expect(parseRefFile(encode(`${ID}\n`))).toEqual({ kind: "direct", oid: ID });
    expect(parseRefFile(encode(ID.toUpperCase()))).toEqual({ kind: "direct", oid: ID });
    expect(parseRefFile(encode(`${ID} anything after whitespace\n`))).toEqual({ kind: "direct", oid: ID });
    expect(parseRefFile(encode("ref: refs/heads/main\n"))).toEqual({ kind: "symbolic", target: "refs/heads/main" });
    expect(parseRefFile(encode("ref:refs/heads/x  \n"))).toEqual({ kind: "symbolic", target: "refs/heads/x" });
  });

  test.each([
    ["an empty file (a crashed write)", ""],
    ["a short id", ID.slice(0, 39)],
    ["garbage glued to the id", `${ID}x`],
    ["a symbolic ref without target", "ref: \n"],
    ["a target with a space", "ref: refs/heads/a b"],
    ["a file far larger than a ref", `${ID}\n${" ".repeat(5000)}`],
  ])("refuses %s", (_, text) => {
    expect(() => parseRefFile(encode(text), "refs/heads/x")).toThrow(CorruptDataError);
  });

  test("refuses bytes that are not UTF-8", () => {
    expect(() => parseRefFile(new Uint8Array([0x72, 0x65, 0x66, 0x3a, 0x20, 0xff]))).toThrow(CorruptDataError);
  });
});

describe("parsePackedRefs", () => {
  test("reads what git pack-refs writes: branches, annotated tags with peeled lines, the header", () => {
    const dir = tempDir();
    try {
      git(["init", "-q", "-b", "main", dir.path]);
      git(["commit", "-q", "--allow-empty", "-m", "one"], { cwd: dir.path });
      git(["tag", "-a", "v1", "-m", "annotated"], { cwd: dir.path });
      git(["tag", "light"], { cwd: dir.path });
      git(["branch", "feature/x"], { cwd: dir.path });
      git(["tag", "-a", "v2", "-m", "tag of a tag", "v1"], { cwd: dir.path });
      git(["pack-refs", "--all"], { cwd: dir.path });
      const bytes = new Uint8Array(readFileSync(join(dir.path, ".git", "packed-refs")));
      expect(new TextDecoder().decode(bytes)).toContain("\n^");
      const expected = gitText(["for-each-ref", "--format=%(objectname) %(refname)"], { cwd: dir.path })
        .split("\n")
        .map((line) => ({ oid: line.slice(0, 40), name: line.slice(41) }));
      expect(parsePackedRefs(bytes)).toEqual(expected);
    } finally {
      dir.cleanup();
    }
  });

  test("an empty file, a file without a final newline", () => {
    expect(parsePackedRefs(new Uint8Array(0))).toEqual([]);
    expect(parsePackedRefs(encode(`${ID} refs/heads/a`))).toEqual([{ name: "refs/heads/a", oid: ID }]);
  });

  test.each([
    ["a peeled line first", `^${ID}\n${ID} refs/heads/a\n`],
    ["two peeled lines for one ref", `${ID} refs/tags/a\n^${ID}\n^${ID}\n`],
    ["a name listed twice", `${ID} refs/heads/a\n${ID} refs/heads/a\n`],
    ["a header that is not on the first line", `${ID} refs/heads/a\n# pack-refs with: peeled\n`],
    ["a line without a name", `${ID}\n`],
    ["a blank line", `${ID} refs/heads/a\n\n`],
    ["a short id", `${ID.slice(1)} refs/heads/a\n`],
    ["a bad peeled id", `${ID} refs/tags/a\n^xyz\n`],
  ])("refuses %s", (_, text) => {
    expect(() => parsePackedRefs(encode(text))).toThrow(CorruptDataError);
  });
});

test("classifyGitDirFile tells ref and object files apart from the rest", () => {
  const pack = `pack-${"ab".repeat(20)}`;
  expect(classifyGitDirFile("HEAD")).toEqual({ kind: "head" });
  expect(classifyGitDirFile("packed-refs")).toEqual({ kind: "packed-refs" });
  expect(classifyGitDirFile("refs/heads/a/b")).toEqual({ kind: "loose-ref", name: "refs/heads/a/b" });
  expect(classifyGitDirFile("refs/heads/")).toEqual({ kind: "other" });
  expect(classifyGitDirFile(`objects/${ID.slice(0, 2)}/${ID.slice(2)}`)).toEqual({ kind: "loose-object", oid: ID });
  expect(classifyGitDirFile(`objects/${ID.slice(0, 2)}/${ID.slice(2).toUpperCase()}`)).toEqual({ kind: "other" });
  expect(classifyGitDirFile(`objects/pack/${pack}.pack`)).toEqual({ kind: "pack", name: pack });
  expect(classifyGitDirFile("objects/info/alternates")).toEqual({ kind: "alternates" });
  expect(classifyGitDirFile("shallow")).toEqual({ kind: "shallow" });
  for (const other of [`objects/pack/${pack}.idx`, `objects/pack/${pack}.keep`, "config", "logs/HEAD", "index", "ORIG_HEAD", "objects/info/packs"]) {
    expect(classifyGitDirFile(other)).toEqual({ kind: "other" });
  }
});
