import { afterAll, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { changedFiles, TreeFiles } from "../../src/blocks/changes.ts";
import { CorruptDataError, MissingObjectError } from "../../src/git/errors.ts";
import { FileMode } from "../../src/git/object/index.ts";
import { git, gitText, tempDir } from "../support/git.ts";
import { seededRandom } from "../support/random.ts";
import { repositoryObjects } from "./letta-hook.ts";
import { CountingReader, newDatabase, treesOf, writeTree, type Files } from "./support.ts";

/** Each change as git's --name-status shows it: "A path", "M path", "D path". */
const summary = (objects: Parameters<typeof changedFiles>[0], oldTree?: string, newTree?: string) =>
  changedFiles(objects, oldTree, newTree).map(({ path, old, new: next }) => `${!old ? "A" : !next ? "D" : "M"} ${path}`);

test("additions, modifications, deletions and mode changes, sorted by path", () => {
  const { objects, oldTree, newTree } = treesOf(
    { "a.md": "a", "system/human.md": "h", "system/persona.md": "p", "run.sh": "x", "old/x.md": "x" },
    { "a.md": "a2", "system/new.md": "n", "system/persona.md": null, "run.sh": { content: "x", mode: FileMode.Executable }, "old/x.md": null },
  );
  expect(summary(objects, oldTree, newTree)).toEqual(["M a.md", "D old/x.md", "M run.sh", "A system/new.md", "D system/persona.md"]);
  const change = changedFiles(objects, oldTree, newTree).find(({ path }) => path === "run.sh");
  expect(change?.old?.mode).toBe(FileMode.Regular);
  expect(change?.new?.mode).toBe(FileMode.Executable);
});

test("a file that becomes a directory of the same name, and back", () => {
  const { objects, oldTree, newTree } = treesOf({ notes: "file", "docs/a.md": "a" }, { notes: null, "notes/a.md": "a", "docs/a.md": null, docs: "file" });
  expect(summary(objects, oldTree, newTree)).toEqual(["A docs", "D docs/a.md", "D notes", "A notes/a.md"]);
});

test("absent trees: everything added, everything deleted, or nothing", () => {
  const objects = newDatabase();
  const tree = writeTree(objects, { "a.md": "a", "b/c.md": "c" });
  expect(summary(objects, undefined, tree)).toEqual(["A a.md", "A b/c.md"]);
  expect(summary(objects, tree, undefined)).toEqual(["D a.md", "D b/c.md"]);
  expect(changedFiles(objects, undefined, undefined)).toEqual([]);
});

test("unchanged subtrees are never read: changing 1 block of 200 reads the 2 trees on its path per side", () => {
  const base: Files = {};
  for (let i = 0; i < 200; i++) base[`system/group${i % 10}/block${i}.md`] = `---\ndescription: ${i}\n---\nvalue ${i}\n`;
  const { objects, oldTree, newTree } = treesOf(base, { "system/group3/block13.md": "changed" });
  const reader = new CountingReader(objects);
  expect(changedFiles(reader, oldTree, newTree).map(({ path }) => path)).toEqual(["system/group3/block13.md"]);
  expect(reader.reads).toBe(6);
  const same = new CountingReader(objects);
  expect(changedFiles(same, oldTree, oldTree)).toEqual([]);
  expect(same.reads).toBe(0);
});

test("missing and mistyped objects are typed errors", () => {
  const objects = newDatabase();
  const blob = objects.addObject("blob", new TextEncoder().encode("x"));
  expect(() => changedFiles(objects, undefined, "1".repeat(40))).toThrow(MissingObjectError);
  expect(() => changedFiles(objects, undefined, blob)).toThrow(CorruptDataError);
  expect(() => new TreeFiles(objects, writeTree(objects, { "a.md": "a" })).bytes({ mode: FileMode.Regular, oid: "2".repeat(40) })).toThrow(MissingObjectError);
});

test("TreeFiles finds files by path, lists directories, and reads each tree once", () => {
  const objects = newDatabase();
  const tree = writeTree(objects, { "MEMORY.md": "#", "project/MEMORY.md": "#", "project/a/b.md": "b", "project/c.md": "c" });
  const reader = new CountingReader(objects);
  const files = new TreeFiles(reader, tree);
  expect(files.has("project/MEMORY.md")).toBe(true);
  expect(files.has("project/c.md")).toBe(true);
  expect(files.has("project")).toBe(false);
  expect(files.has("project/a")).toBe(false);
  expect(files.has("missing/x.md")).toBe(false);
  expect(files.has("MEMORY.md/x")).toBe(false);
  expect(reader.reads).toBe(2);
  expect(files.files("project").map(({ path }) => path)).toEqual(["project/MEMORY.md", "project/a/b.md", "project/c.md"]);
  expect(files.filesIn("").map(({ path }) => path)).toEqual(["MEMORY.md"]);
  expect(files.files("nowhere")).toEqual([]);
  expect(new TextDecoder().decode(files.bytes(files.file("project/c.md")!))).toBe("c");
  expect(new TreeFiles(objects, undefined).files()).toEqual([]);
});

const scratch = tempDir("stategit-changes-");
afterAll(() => scratch.cleanup());

test("the same changes as git diff-tree on random trees", () => {
  const random = seededRandom(3);
  const repository = join(scratch.path, "repo");
  git(["init", "-q", "-b", "main", repository]);
  const names = ["a", "b.md", "c", "MEMORY.md", "x-y", "x.y", "x"];
  const randomPath = () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => names[Math.floor(random() * names.length)]).join("/");
  const trees: string[] = [];
  for (let round = 0; round < 12; round++) {
    for (let edit = 0; edit < 6; edit++) {
      const path = join(repository, randomPath());
      const remove = random() < 0.3;
      try {
        rmSync(path, { recursive: true, force: true });
        if (remove) continue;
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, `${round} ${edit}\n`);
      } catch {
        // A file stands where a directory would go: skip this edit.
      }
    }
    git(["add", "-A"], { cwd: repository });
    trees.push(gitText(["write-tree"], { cwd: repository }));
  }
  const objects = repositoryObjects(repository);
  for (let i = 1; i < trees.length; i++) {
    const expected = gitText(["diff-tree", "-r", "--no-renames", "--name-status", trees[i - 1], trees[i]], { cwd: repository })
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split("\t"))
      .sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : 1))
      .map(([status, path]) => `${status} ${path}`);
    expect(summary(objects, trees[i - 1], trees[i])).toEqual(expected);
  }
});
