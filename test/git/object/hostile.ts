import { parseCommit, parseTag, parseTree, serializeCommit, serializeTag, serializeTree, type ObjectType } from "../../../src/git/object/index.ts";

/** What `git fsck --strict` (git 2.39) says about a case: the same rejection, or a weaker verdict. */
export type GitVerdict =
  | { error: string }
  /** git refuses the object while parsing it, before fsck names a message id. */
  | "unparseable"
  /** git only warns (an "info" message id) or accepts; stategit refuses it on purpose. */
  | { warning: string }
  | "accepted";

/** serialize(parse(data)) for the object's type. */
export function reserialize(type: Exclude<ObjectType, "blob">, data: Uint8Array): Uint8Array {
  switch (type) {
    case "tree":
      return serializeTree(parseTree(data));
    case "commit":
      return serializeCommit(parseCommit(data));
    case "tag":
      return serializeTag(parseTag(data));
  }
}

export interface HostileCase {
  name: string;
  type: ObjectType;
  data: Uint8Array;
  /** The CorruptDataError code fsckObject must throw. */
  code: string;
  git: GitVerdict;
}

const encoder = new TextEncoder();
const bytes = (...parts: (string | Uint8Array)[]) => new Uint8Array(Buffer.concat(parts.map((part) => (typeof part === "string" ? encoder.encode(part) : part))));
const rawOid = (hex: string) => Uint8Array.from(hex.match(/../g) as string[], (pair) => parseInt(pair, 16));

export const BLOB_OID = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391";
export const TREE_OID = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const ZERO = "0".repeat(40);

/** A tree from [mode, name, oid] triples, in the order given. */
export function treeOf(entries: [string, string | Uint8Array, string?][]): Uint8Array {
  return bytes(...entries.flatMap(([mode, name, oid]) => [`${mode} `, name, "\0", rawOid(oid ?? BLOB_OID)]));
}

const AUTHOR = "author A U Thor <author@example.com> 1700000000 +0100\n";
const COMMITTER = "committer C O Mitter <committer@example.com> 1700000001 +0000\n";
export function commitOf(head: string, rest = `${AUTHOR}${COMMITTER}\nmessage\n`): Uint8Array {
  return bytes(head, rest);
}
const TREE_LINE = `tree ${TREE_OID}\n`;
const withAuthor = (author: string) => commitOf(TREE_LINE, `author ${author}\n${COMMITTER}\nmessage\n`);

const TAG_HEAD = `object ${BLOB_OID}\ntype blob\n`;
const TAGGER = "tagger T <t@example.com> 1700000000 +0000\n";

const rawTree = (name: string, data: Uint8Array, code: string, git: GitVerdict): HostileCase => ({ name, type: "tree", data, code, git });
const tree = (name: string, entries: [string, string | Uint8Array, string?][], code: string, git: GitVerdict) => rawTree(name, treeOf(entries), code, git);
const commit = (name: string, data: Uint8Array, code: string, git: GitVerdict): HostileCase => ({ name, type: "commit", data, code, git });
const tag = (name: string, text: string, code: string, git: GitVerdict): HostileCase => ({ name, type: "tag", data: bytes(text), code, git });
const same = (code: string): [string, GitVerdict] => [`fsck.${code}`, { error: code }];
const validTree = (name: string, names: (string | Uint8Array)[], mode = "100644") => ({
  name,
  type: "tree" as const,
  data: treeOf(names.map((entry): [string, string | Uint8Array] => [mode, entry]).sort((a, b) => compareNames(a[1], b[1]))),
});

/** Objects near the rules that both git and stategit accept (no false positives). */
export const VALID_CASES: { name: string; type: ObjectType; data: Uint8Array }[] = [
  validTree("names close to .git", [".git-foo", ".gitattributes", ".github", ".gitx", "a.git", "git", "git~2", "gitmod~1", "x.."]),
  validTree("names close to .gitmodules, as symbolic links", [".gitmodule", ".gitmodulesx", "gitmodules", "gitmod~5"], "120000"),
  validTree("regular file named .gitmodules", [".gitmodules"]),
  validTree("non-UTF-8 and non-ASCII names", ["caf\u00e9", new Uint8Array([0xff, 0xfe]), "\u200c.gitx"]),
  { name: "file, longer files, then the directory", type: "tree", data: treeOf([["100644", "foo"], ["100644", "foo-bar"], ["40000", "foo.d", TREE_OID], ["40000", "foo0", TREE_OID]]) },
  { name: "commit at time 0, empty name, zone -0000", type: "commit", data: commitOf(TREE_LINE, "author  <a@example.com> 0 -0000\n" + COMMITTER + "\n") },
  { name: "tag with a header after tagger and a non-ASCII name", type: "tag", data: bytes(`${TAG_HEAD}tag r\u00e9sum\u00e9/v1\n${TAGGER}x-extra value\n\nm\n`) },
];

function compareNames(a: string | Uint8Array, b: string | Uint8Array): number {
  return Buffer.compare(Buffer.from(typeof a === "string" ? encoder.encode(a) : a), Buffer.from(typeof b === "string" ? encoder.encode(b) : b));
}

export const HOSTILE_CASES: HostileCase[] = [
  // Trees whose structure is broken.
  rawTree("truncated entry id", bytes("100644 a\0", rawOid(BLOB_OID).subarray(0, 12)), ...same("badTree")),
  rawTree("name without NUL", bytes("100644 abc"), ...same("badTree")),
  rawTree("mode with a non-octal digit", bytes("100684 a\0", rawOid(BLOB_OID)), ...same("badTree")),
  rawTree("empty mode", bytes(" a\0", rawOid(BLOB_OID)), ...same("badTree")),
  // git's tree decoder refuses the empty name before fsck's emptyName check can see it.
  tree("empty name", [["100644", ""]], "fsck.emptyName", { error: "badTree" }),
  tree("zero-padded mode", [["040000", "dir", TREE_OID]], ...same("zeroPaddedFilemode")),
  tree("unknown mode 100600", [["100600", "a"]], "fsck.badFilemode", { warning: "badFilemode" }),
  tree("unknown mode 160644", [["160644", "a"]], "fsck.badFilemode", { warning: "badFilemode" }),
  tree("name with a slash", [["100644", "a/b"]], ...same("fullPathname")),
  tree("name '.'", [["40000", ".", TREE_OID]], ...same("hasDot")),
  tree("name '..'", [["40000", "..", TREE_OID]], ...same("hasDotdot")),
  tree("name '.git'", [["40000", ".git", TREE_OID]], ...same("hasDotgit")),
  tree("name '.GiT' (case-insensitive file systems)", [["100644", ".GiT"]], ...same("hasDotgit")),
  tree("name 'GIT~1' (NTFS short name)", [["40000", "GIT~1", TREE_OID]], ...same("hasDotgit")),
  tree("name '.git. .' (NTFS drops trailing dots and spaces)", [["40000", ".git. .", TREE_OID]], ...same("hasDotgit")),
  tree("name '.git::$INDEX_ALLOCATION' (NTFS stream)", [["40000", ".git::$INDEX_ALLOCATION", TREE_OID]], ...same("hasDotgit")),
  tree("name '.g\\u200cit' (HFS+ ignores zero-width joiners)", [["40000", ".g\u200cit", TREE_OID]], ...same("hasDotgit")),
  tree("name '\\ufeff.git' (HFS+ ignores the byte-order mark)", [["40000", "\ufeff.git", TREE_OID]], ...same("hasDotgit")),
  tree("name 'a\\.git' (backslash is a separator on Windows)", [["100644", "a\\.git"]], ...same("hasDotgit")),
  tree("entry with the null object id", [["100644", "a", ZERO]], ...same("nullSha1")),
  tree("two files with one name", [["100644", "a"], ["100644", "a"]], ...same("duplicateEntries")),
  tree("a file and a directory with one name", [["100644", "a"], ["40000", "a", TREE_OID]], ...same("duplicateEntries")),
  tree("a file and a directory with one name, apart", [["100644", "foo"], ["100644", "foo.bar"], ["100644", "foo.bar.baz"], ["40000", "foo", TREE_OID]], ...same("duplicateEntries")),
  tree("entries out of order", [["100644", "b"], ["100644", "a"]], ...same("treeNotSorted")),
  tree("directory sorted as if without its slash", [["40000", "a", TREE_OID], ["100644", "a.c"]], ...same("treeNotSorted")),
  tree("symbolic link named .gitmodules", [["120000", ".gitmodules"]], ...same("gitmodulesSymlink")),
  tree("symbolic link named GITMOD~1", [["120000", "GITMOD~1"]], ...same("gitmodulesSymlink")),
  tree("symbolic link named gi7eba~9 (NTFS fallback short name)", [["120000", "gi7eba~9"]], ...same("gitmodulesSymlink")),
  tree("symbolic link named .gitmodules with a trailing dot", [["120000", ".gitmodules."]], ...same("gitmodulesSymlink")),

  // Commits.
  commit("no tree line", commitOf(`parent ${BLOB_OID}\n`), "fsck.missingTree", "unparseable"),
  commit("short tree id", commitOf(`tree ${TREE_OID.slice(1)}\n`), "fsck.badTreeSha1", "unparseable"),
  // git reads upper-case hex too, but never writes it: the object would not round-trip.
  commit("upper-case tree id", commitOf(`tree ${TREE_OID.toUpperCase()}\n`), "fsck.badTreeSha1", "accepted"),
  commit("bad parent id", commitOf(`${TREE_LINE}parent xyz\n`), "fsck.badParentSha1", "unparseable"),
  commit("no author", commitOf(TREE_LINE, `${COMMITTER}\nmessage\n`), ...same("missingAuthor")),
  commit("two authors", commitOf(TREE_LINE, `${AUTHOR}${AUTHOR}${COMMITTER}\nm\n`), ...same("multipleAuthors")),
  commit("no committer", commitOf(TREE_LINE, `${AUTHOR}\nmessage\n`), ...same("missingCommitter")),
  commit("identity without name", withAuthor("<a@example.com> 1 +0000"), ...same("missingNameBeforeEmail")),
  commit("identity name with '>'", withAuthor("A> <a@example.com> 1 +0000"), ...same("badName")),
  commit("identity without email", withAuthor("A 1 +0000"), ...same("missingEmail")),
  commit("identity without space before email", withAuthor("A<a@example.com> 1 +0000"), ...same("missingSpaceBeforeEmail")),
  commit("identity email not closed", withAuthor("A <a@example.com 1 +0000"), ...same("badEmail")),
  commit("identity email with '<'", withAuthor("A <a<b@example.com> 1 +0000"), ...same("badEmail")),
  commit("identity without space before date", withAuthor("A <a@example.com>1 +0000"), ...same("missingSpaceBeforeDate")),
  commit("identity date zero-padded", withAuthor("A <a@example.com> 0123 +0000"), ...same("zeroPaddedDate")),
  commit("identity date not a number", withAuthor("A <a@example.com> x123 +0000"), ...same("badDate")),
  commit("identity without date", withAuthor("A <a@example.com> +0000"), ...same("badDate")),
  commit("identity date overflows", withAuthor("A <a@example.com> 99999999999999999999999 +0000"), ...same("badDateOverflow")),
  // git accepts any time_t; a JS number is exact only up to 2^53.
  commit("identity date beyond 2^53", withAuthor("A <a@example.com> 9007199254740993 +0000"), "fsck.badDateOverflow", "accepted"),
  // git's strtoumax skips blanks before the number; git never writes them.
  commit("identity date after two spaces", withAuthor("A <a@example.com>  1 +0000"), "fsck.badDate", "accepted"),
  commit("identity zone too long", withAuthor("A <a@example.com> 1 +01000"), ...same("badTimezone")),
  commit("identity zone without sign", withAuthor("A <a@example.com> 1 0100"), ...same("badTimezone")),
  commit("identity zone not digits", withAuthor("A <a@example.com> 1 +01a0"), ...same("badTimezone")),
  commit("NUL in a header", commitOf(TREE_LINE, `author A\0 <a@example.com> 1 +0000\n${COMMITTER}\nm\n`), ...same("nulInHeader")),
  commit("header without final newline", commitOf(TREE_LINE, `${AUTHOR}${COMMITTER.trimEnd()}`), ...same("unterminatedHeader")),
  commit("NUL in the message", commitOf(TREE_LINE, `${AUTHOR}${COMMITTER}\nmess\0age\n`), ...same("nulInCommit")),
  // Lines git never writes and that would not survive a round trip.
  commit("continuation line after committer", commitOf(TREE_LINE, `${AUTHOR}${COMMITTER} stray\n\nm\n`), "fsck.badHeaderContinuation", "accepted"),
  commit("header line without a value", commitOf(TREE_LINE, `${AUTHOR}${COMMITTER}novalue\n\nm\n`), "fsck.badHeader", "accepted"),

  // Tags.
  tag("no object line", `type blob\ntag v1\n${TAGGER}\nm\n`, "fsck.missingObject", "unparseable"),
  tag("bad object id", `object ${BLOB_OID.slice(2)}\ntype blob\ntag v1\n${TAGGER}\nm\n`, "fsck.badObjectSha1", "unparseable"),
  tag("no type line", `object ${BLOB_OID}\ntag v1\n${TAGGER}\nm\n`, "fsck.missingTypeEntry", "unparseable"),
  tag("unknown type", `object ${BLOB_OID}\ntype blobby\ntag v1\n${TAGGER}\nm\n`, "fsck.badType", "unparseable"),
  tag("no tag line", `${TAG_HEAD}${TAGGER}\nm\n`, "fsck.missingTagEntry", "unparseable"),
  // git fsck only reports it as "info", but `git mktag` refuses it.
  tag("tag name that is no ref name", `${TAG_HEAD}tag a..b\n${TAGGER}\nm\n`, "fsck.badTagName", { warning: "badTagName" }),
  tag("tagger with a bad email", `${TAG_HEAD}tag v1\ntagger T <t@example.com 1 +0000\n\nm\n`, ...same("badEmail")),
  tag("NUL in a tag header", `${TAG_HEAD}tag v\u00001\n${TAGGER}\nm\n`, ...same("nulInHeader")),
];
