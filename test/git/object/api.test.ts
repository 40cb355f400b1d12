import { afterAll, expect, test } from "bun:test";
import { CorruptDataError } from "../../../src/git/errors.ts";
import {
  commitTime,
  commitTreeAndParents,
  compareTreeEntries,
  decodeObjectText,
  entryObjectType,
  FileMode,
  isTreeMode,
  parseCommit,
  parseTag,
  parseTree,
  serializeCommit,
  serializeTag,
  serializeTree,
  type Commit,
  type Identity,
  type Tag,
  type TreeEntry,
} from "../../../src/git/object/index.ts";
import { git, gitText, tempDir } from "../../support/git.ts";
import { BLOB_OID, TREE_OID } from "./hostile.ts";

const scratch = tempDir("stategit-object-api-");
afterAll(scratch.cleanup);
const cwd = scratch.path;
git(["init", "-q"], { cwd });
const encode = (text: string) => new TextEncoder().encode(text);
const catFile = (type: string, oid: string) => git(["cat-file", type, oid], { cwd }).stdout;
const entry = (mode: number, name: string, oid = mode === FileMode.Tree ? TREE_OID : BLOB_OID): TreeEntry => ({ mode, name: encode(name), oid });

function expectCorrupt(action: () => unknown, code: string): void {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as CorruptDataError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

test("serializeTree writes git mktree's bytes, sorting directories as if they ended in '/'", () => {
  const entries = [
    entry(FileMode.Tree, "a"),
    entry(FileMode.Regular, "a.c"),
    entry(FileMode.Executable, "a-b"),
    entry(FileMode.Symlink, "a0"),
    entry(FileMode.Gitlink, "ab", "1".repeat(40)),
    entry(FileMode.Tree, "Z"),
    entry(FileMode.Regular, "\u00e9"),
  ];
  const listing = entries.map((e) => `${e.mode.toString(8).padStart(6, "0")} ${entryObjectType(e.mode) === "gitlink" ? "commit" : entryObjectType(e.mode)} ${e.oid}\t${new TextDecoder().decode(e.name)}\n`).join("");
  const oid = gitText(["mktree", "--missing"], { cwd, input: listing });
  const before = entries.map((e) => e.name);
  expect(serializeTree(entries)).toEqual(catFile("tree", oid));
  expect(entries.map((e) => e.name)).toEqual(before);
  expect(parseTree(serializeTree(entries)).map((e) => new TextDecoder().decode(e.name))).toEqual(["Z", "a-b", "a.c", "a", "a0", "ab", "\u00e9"]);
});

test("compareTreeEntries: a gitlink sorts like a file, a directory with a trailing '/'", () => {
  expect(compareTreeEntries(entry(FileMode.Gitlink, "a"), entry(FileMode.Regular, "a.c"))).toBeLessThan(0);
  expect(compareTreeEntries(entry(FileMode.Tree, "a"), entry(FileMode.Regular, "a.c"))).toBeGreaterThan(0);
  expect(compareTreeEntries(entry(FileMode.Tree, "a"), entry(FileMode.Regular, "a0"))).toBeLessThan(0);
  expect(compareTreeEntries(entry(FileMode.Tree, "a"), entry(FileMode.Tree, "a"))).toBe(0);
});

test("serializeTree refuses entries git would refuse", () => {
  expectCorrupt(() => serializeTree([entry(FileMode.Regular, "a"), entry(FileMode.Regular, "a")]), "fsck.duplicateEntries");
  expectCorrupt(() => serializeTree([entry(FileMode.Regular, "a"), entry(FileMode.Tree, "a")]), "fsck.duplicateEntries");
  expectCorrupt(() => serializeTree([entry(FileMode.Tree, ".git")]), "fsck.hasDotgit");
  expectCorrupt(() => serializeTree([entry(FileMode.Regular, "a/b")]), "fsck.fullPathname");
  expectCorrupt(() => serializeTree([entry(FileMode.Regular, "a\0b")]), "fsck.badTree");
  expectCorrupt(() => serializeTree([entry(FileMode.Regular, "")]), "fsck.emptyName");
  expectCorrupt(() => serializeTree([entry(0o100600, "a")]), "fsck.badFilemode");
  expectCorrupt(() => serializeTree([entry(FileMode.Regular, "a", "XYZ")]), "tree.entry");
  expect(serializeTree([])).toEqual(new Uint8Array());
});

test("entryObjectType and isTreeMode", () => {
  expect([FileMode.Tree, FileMode.Regular, FileMode.Executable, FileMode.Symlink, FileMode.Gitlink, 0o100664].map(entryObjectType)).toEqual(["tree", "blob", "blob", "blob", "gitlink", "blob"]);
  expect(isTreeMode(FileMode.Tree)).toBe(true);
  expect(isTreeMode(FileMode.Gitlink)).toBe(false);
  expectCorrupt(() => entryObjectType(0o100600), "fsck.badFilemode");
});

const author: Identity = { name: encode("A U Thor"), email: encode("author@example.com"), timestamp: 1700000000, timezone: "+0100" };
const committer: Identity = { name: encode("C O Mitter"), email: encode("committer@example.com"), timestamp: 1700000500, timezone: "-0730" };
const identityEnv = {
  GIT_AUTHOR_NAME: "A U Thor",
  GIT_AUTHOR_EMAIL: "author@example.com",
  GIT_AUTHOR_DATE: "1700000000 +0100",
  GIT_COMMITTER_NAME: "C O Mitter",
  GIT_COMMITTER_EMAIL: "committer@example.com",
  GIT_COMMITTER_DATE: "1700000500 -0730",
};

test("serializeCommit writes git commit-tree's bytes", () => {
  const parents = ["one", "two"].map((message) => gitText(["commit-tree", TREE_OID, "-m", message], { cwd, env: identityEnv }));
  const oid = gitText(["commit-tree", TREE_OID, "-p", parents[0], "-p", parents[1]], { cwd, env: identityEnv, input: "two parents\n\nbody\n" });
  const commit: Commit = { tree: TREE_OID, parents, author, committer, headers: [], message: encode("two parents\n\nbody\n") };
  const data = serializeCommit(commit);
  expect(data).toEqual(catFile("commit", oid));
  expect(commitTreeAndParents(data)).toEqual({ tree: TREE_OID, parents });
  expect(commitTime(data)).toBe(1700000500);
});

test("header values with newlines become continuation lines and come back", () => {
  const values = ["-----BEGIN-----\n\nabc\n-----END-----", "ends with a newline\n", "\n", ""];
  const commit: Commit = { tree: TREE_OID, parents: [], author, committer, headers: values.map((value, i) => ({ key: `x-${i}`, value: encode(value) })), message: null };
  const data = serializeCommit(commit);
  expect(new TextDecoder().decode(data)).toContain("x-0 -----BEGIN-----\n \n abc\n -----END-----\nx-1 ends with a newline\n \nx-2 \n \nx-3 \n");
  expect(parseCommit(data).headers.map((header) => new TextDecoder().decode(header.value))).toEqual(values);
});

test("serializeCommit refuses what would not read back", () => {
  const base: Commit = { tree: TREE_OID, parents: [], author, committer, headers: [], message: encode("m\n") };
  expectCorrupt(() => serializeCommit({ ...base, author: { ...author, name: encode("A\nB") } }), "fsck.missingEmail");
  expectCorrupt(() => serializeCommit({ ...base, author: { ...author, name: encode("A>") } }), "fsck.badName");
  expectCorrupt(() => serializeCommit({ ...base, author: { ...author, email: encode("a>b") } }), "fsck.missingSpaceBeforeDate");
  expectCorrupt(() => serializeCommit({ ...base, author: { ...author, timezone: "0100" } }), "fsck.badTimezone");
  expectCorrupt(() => serializeCommit({ ...base, author: { ...author, timestamp: -1 } }), "fsck.badDate");
  expectCorrupt(() => serializeCommit({ ...base, author: { ...author, timestamp: 1.5 } }), "fsck.badDate");
  expectCorrupt(() => serializeCommit({ ...base, parents: ["abc"] }), "fsck.badParentSha1");
  expectCorrupt(() => serializeCommit({ ...base, headers: [{ key: "two words", value: encode("v") }] }), "fsck.badHeader");
  expectCorrupt(() => serializeCommit({ ...base, headers: [{ key: "k", value: encode("a\0b") }] }), "fsck.nulInHeader");
  expectCorrupt(() => serializeCommit({ ...base, message: encode("a\0b") }), "fsck.nulInCommit");
});

test("serializeTag writes git mktag's bytes, with or without a tagger", () => {
  const text = `object ${BLOB_OID}\ntype blob\ntag v1.0\ntagger C O Mitter <committer@example.com> 1700000500 -0730\n\nrelease\n`;
  git(["hash-object", "-w", "--stdin"], { cwd, input: "" });
  const oid = gitText(["mktag"], { cwd, input: text });
  const tag: Tag = { object: BLOB_OID, type: "blob", tag: encode("v1.0"), tagger: committer, headers: [], message: encode("release\n") };
  expect(serializeTag(tag)).toEqual(catFile("tag", oid));
  expect(parseTag(serializeTag({ ...tag, tagger: null })).tagger).toBeNull();
  expectCorrupt(() => serializeTag({ ...tag, tag: encode("v1..0") }), "fsck.badTagName");
});

test("decodeObjectText honours the encoding header and falls back to UTF-8", () => {
  const latin1 = Uint8Array.of(0x63, 0x61, 0x66, 0xe9);
  expect(decodeObjectText({ headers: [{ key: "encoding", value: encode("ISO-8859-1") }] }, latin1)).toBe("café");
  expect(decodeObjectText({ headers: [] }, encode("café"))).toBe("café");
  expect(decodeObjectText({ headers: [{ key: "encoding", value: encode("no-such-encoding") }] }, encode("café"))).toBe("café");
  expect(decodeObjectText({ headers: [] }, null)).toBe("");
});

test("the cheap commit accessors refuse garbage with typed errors", () => {
  expectCorrupt(() => commitTreeAndParents(encode("parent x\n")), "fsck.missingTree");
  expectCorrupt(() => commitTreeAndParents(encode(`tree ${TREE_OID}\nparent ${TREE_OID.slice(1)}\n`)), "fsck.badParentSha1");
  expectCorrupt(() => commitTime(encode(`tree ${TREE_OID}\nauthor A <a> 1 +0000\n`)), "fsck.missingCommitter");
  expectCorrupt(() => commitTime(encode(`tree ${TREE_OID}\nauthor A <a> 1 +0000\ncommitter C <c> 2 +0000`)), "fsck.unterminatedHeader");
});
