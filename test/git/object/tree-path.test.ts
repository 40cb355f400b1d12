import { afterAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { nativeCodec } from "../../../src/git/codec/index.ts";
import { editTreePath, entryAtPath, filesUnder, FileMode, TreePathConflictError, withObjects, type GitObject } from "../../../src/git/object/index.ts";
import { hashObject } from "../../../src/git/object/object.ts";
import { gitText, tempDir } from "../../support/git.ts";
import { openDatabase } from "../odb/repository.ts";
import { history } from "../walk/history.ts";

const gitDir = history({ commits: 400, files: 60, edits: 2, topicEvery: 25 });
const database = openDatabase(gitDir, nativeCodec);
const root = gitText(["rev-parse", "main^{tree}"], { cwd: gitDir });
const scratch = tempDir("stategit-tree-path-");
mkdirSync(join(scratch.path, "objects"));
afterAll(() => scratch.cleanup());

/** git's answer: the tree of main with one index entry set or removed (git update-index, write-tree), in a scratch index. */
function gitEdit(path: string, blob: string | undefined): string {
  const env = { GIT_DIR: gitDir, GIT_WORK_TREE: scratch.path, GIT_INDEX_FILE: join(scratch.path, "index"), GIT_OBJECT_DIRECTORY: join(scratch.path, "objects"), GIT_ALTERNATE_OBJECT_DIRECTORIES: join(gitDir, "objects") };
  gitText(["read-tree", "main"], { cwd: gitDir, env });
  gitText(blob ? ["update-index", "--add", "--cacheinfo", `100644,${blob},${path}`] : ["update-index", "--force-remove", path], { cwd: gitDir, env });
  return gitText(["write-tree", "--missing-ok"], { cwd: gitDir, env });
}

const files = filesUnder(database, root);
const blob: GitObject = { type: "blob", data: new TextEncoder().encode("new content\n") };
const blobId = hashObject(nativeCodec, "blob", blob.data);
const reader = withObjects(database, new Map([[blobId, blob]]));

test("filesUnder lists what git ls-tree -r lists", () => {
  const listed = gitText(["ls-tree", "-r", "main"], { cwd: gitDir }).split("\n");
  expect(files.map(({ path, mode, oid }) => `${mode.toString(8).padStart(6, "0")} ${mode === FileMode.Gitlink ? "commit" : "blob"} ${oid}\t${path}`)).toEqual(listed);
});

test("editTreePath writes the tree git write-tree writes: set, replace, add nested, remove, remove nothing", () => {
  const deepest = files.find(({ path }) => path.startsWith("notes/deep/"))!.path;
  const edits: [string, string | undefined][] = [
    [files[3].path, blobId],
    ["brand/new/dir/file.md", blobId],
    ["notes/deep/added.md", blobId],
    [deepest, undefined],
    [files[0].path, undefined],
    ["missing.md", undefined],
  ];
  for (const [path, oid] of edits) {
    const edit = editTreePath(reader, nativeCodec, root, path, oid === undefined ? undefined : { mode: FileMode.Regular, oid });
    expect({ path, tree: edit.tree }).toEqual({ path, tree: gitEdit(path, oid) });
    const after = withObjects(reader, new Map(edit.objects.map((object) => [hashObject(nativeCodec, object.type, object.data), object])));
    expect(entryAtPath(after, edit.tree, path)?.oid).toBe(oid);
  }
  expect(editTreePath(reader, nativeCodec, root, "missing.md", undefined)).toEqual({ tree: root, objects: [] });
});

test("a directory of only one file disappears with it; an empty root stays a tree", () => {
  const single = editTreePath(reader, nativeCodec, undefined, "a/b/c.md", { mode: FileMode.Regular, oid: blobId });
  const after = withObjects(reader, new Map(single.objects.map((object) => [hashObject(nativeCodec, object.type, object.data), object])));
  expect(filesUnder(after, single.tree).map(({ path }) => path)).toEqual(["a/b/c.md"]);
  const removed = editTreePath(after, nativeCodec, single.tree, "a/b/c.md", undefined);
  expect(removed.tree).toBe("4b825dc642cb6eb9a060e54bf8d69288fbee4904");
});

test("a file in the way of a directory, or a directory in the way of a file, is a TreePathConflictError", () => {
  const file = files[1].path;
  expect(() => editTreePath(reader, nativeCodec, root, `${file}/below.md`, { mode: FileMode.Regular, oid: blobId })).toThrow(TreePathConflictError);
  expect(() => editTreePath(reader, nativeCodec, root, "notes", { mode: FileMode.Regular, oid: blobId })).toThrow(TreePathConflictError);
  expect(() => editTreePath(reader, nativeCodec, root, "a//b.md", { mode: FileMode.Regular, oid: blobId })).toThrow(TreePathConflictError);
});
