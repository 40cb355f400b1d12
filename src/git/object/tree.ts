/**
 * Tree objects: a sequence of "<octal mode> SP <name> NUL <20-byte id>" entries, sorted by name
 * with directories compared as if their name ended in "/" (git's tree.c base_name_compare).
 */
import { CorruptDataError } from "../errors.ts";
import { isOid, OID_BYTES, oidToHex, writeOid, ZERO_OID, type Oid } from "../oid.ts";
import { ascii, fsckError, NUL, SPACE, startsWith } from "./bytes.ts";
import { isDotGitmodulesName, isDotGitName } from "./dotgit.ts";
import type { ObjectType } from "./object.ts";

export const FileMode = {
  Tree: 0o40000,
  Regular: 0o100644,
  Executable: 0o100755,
  Symlink: 0o120000,
  /** A submodule commit: the id names a commit of another repository. */
  Gitlink: 0o160000,
} as const;

/**
 * Mode 100664 predates git's mode normalisation; git still accepts it (fsck warns only with
 * --strict, and only as "info") and reads it as a regular file, so old histories keep working.
 */
const GROUP_WRITABLE_FILE = 0o100664;

export interface TreeEntry {
  mode: number;
  /** Raw bytes: git does not require names to be UTF-8. A view into the tree's data. */
  name: Uint8Array;
  oid: Oid;
}

const SLASH = 0x2f;
const DOT = 0x2e;
const utf8 = new TextDecoder();

export function isTreeMode(mode: number): boolean {
  return mode === FileMode.Tree;
}

/**
 * The kind of object an entry names. A gitlink names a commit in another repository, so it is
 * never part of this repository's reachable set.
 */
export function entryObjectType(mode: number): ObjectType | "gitlink" {
  switch (mode) {
    case FileMode.Tree:
      return "tree";
    case FileMode.Gitlink:
      return "gitlink";
    case FileMode.Regular:
    case FileMode.Executable:
    case FileMode.Symlink:
    case GROUP_WRITABLE_FILE:
      return "blob";
    default:
      throw fsckError("badFilemode", `unsupported tree entry mode ${mode.toString(8)}`);
  }
}

/** The entry's name decoded as UTF-8 (invalid sequences become U+FFFD). */
export function treeEntryName(entry: TreeEntry): string {
  return utf8.decode(entry.name);
}

/**
 * Parses a tree. Entries keep views into `data` (no copy). Structure, modes and zero-padding
 * are checked here, so everything this accepts serializes back to the same bytes; name and
 * order rules are fsckTree's.
 */
export function parseTree(data: Uint8Array): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let offset = 0;
  while (offset < data.length) {
    let mode = 0;
    let cursor = offset;
    for (; cursor < data.length && data[cursor] !== SPACE; cursor++) {
      const digit = data[cursor] - 0x30;
      if (digit < 0 || digit > 7) throw fsckError("badTree", `malformed mode in tree entry at offset ${offset}`);
      // Saturates: any mode this long is invalid anyway, and must not overflow into a valid one.
      if (mode < 0o10000000) mode = mode * 8 + digit;
    }
    if (cursor === offset || cursor >= data.length) throw fsckError("badTree", `malformed mode in tree entry at offset ${offset}`);
    if (data[offset] === 0x30) throw fsckError("zeroPaddedFilemode", `zero-padded file mode in tree entry at offset ${offset}`);
    entryObjectType(mode); // refuses modes git does not write (badFilemode)
    const nameStart = cursor + 1;
    const nameEnd = data.indexOf(NUL, nameStart);
    if (nameEnd < 0 || nameEnd + 1 + OID_BYTES > data.length) throw fsckError("badTree", `truncated tree entry at offset ${offset}`);
    if (nameEnd === nameStart) throw fsckError("emptyName", `empty name in tree entry at offset ${offset}`);
    entries.push({ mode, name: data.subarray(nameStart, nameEnd), oid: oidToHex(data, nameEnd + 1) });
    offset = nameEnd + 1 + OID_BYTES;
  }
  return entries;
}

/** The byte an entry's name continues with at `index`: past its end, "/" for a directory. */
function sortByteAt(entry: TreeEntry, index: number): number {
  if (index < entry.name.length) return entry.name[index];
  return entry.mode === FileMode.Tree ? SLASH : NUL;
}

function commonPrefixLength(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  let i = 0;
  while (i < length && a[i] === b[i]) i++;
  return i;
}

/** git's tree order: byte-wise, with a directory's name compared as if followed by "/". */
export function compareTreeEntries(a: TreeEntry, b: TreeEntry): number {
  const common = commonPrefixLength(a.name, b.name);
  return sortByteAt(a, common) - sortByteAt(b, common);
}

/**
 * Serializes entries in git's tree order (the input array is not modified). Throws
 * CorruptDataError for entries git would refuse: bad names or modes, duplicates, ".git".
 */
export function serializeTree(entries: readonly TreeEntry[]): Uint8Array {
  const sorted = [...entries].sort(compareTreeEntries);
  const modes = sorted.map((entry) => {
    if (!isOid(entry.oid)) throw new CorruptDataError("tree.entry", `tree entry has an invalid object id "${entry.oid}"`);
    if (entry.name.includes(NUL)) throw fsckError("badTree", "tree entry name contains a NUL byte");
    return ascii(entry.mode.toString(8));
  });
  const out = new Uint8Array(sorted.reduce((size, entry, i) => size + modes[i].length + entry.name.length + 2 + OID_BYTES, 0));
  let offset = 0;
  sorted.forEach(({ name, oid }, i) => {
    out.set(modes[i], offset);
    offset += modes[i].length;
    out[offset++] = SPACE;
    out.set(name, offset);
    offset += name.length;
    out[offset++] = NUL;
    writeOid(out, offset, oid);
    offset += OID_BYTES;
  });
  fsckTree(out);
  return out;
}

function isBelowSlash(c: number): boolean {
  return c > NUL && c < SLASH;
}

/**
 * Checks that `next` sorts after `previous` and that no file and directory share a name. Such a
 * pair need not be adjacent ("foo", "foo.bar", "foo/"), so files that are a prefix of later
 * names wait on `files` until a directory settles them (git's fsck.c verify_ordered).
 */
function checkOrder(previous: TreeEntry, next: TreeEntry, files: Uint8Array[]): void {
  const common = commonPrefixLength(previous.name, next.name);
  if (common < previous.name.length && common < next.name.length) {
    if (previous.name[common] > next.name[common]) throw notSorted(previous, next);
    return;
  }
  if (previous.name.length === next.name.length) throw fsckError("duplicateEntries", `tree contains duplicate entries named "${treeEntryName(next)}"`);
  const before = sortByteAt(previous, common);
  const after = sortByteAt(next, common);
  if (before === NUL && isBelowSlash(after)) {
    files.push(previous.name);
  } else if (after === SLASH && isBelowSlash(before)) {
    while (files.length > 0) {
      const file = files.pop() as Uint8Array;
      if (!startsWith(next.name, 0, file)) continue;
      if (next.name.length === file.length) {
        throw fsckError("duplicateEntries", `tree contains a file and a directory named "${treeEntryName(next)}"`);
      }
      if (isBelowSlash(next.name[file.length])) {
        files.push(file);
        break;
      }
    }
  }
  if (before >= after) throw notSorted(previous, next);
}

function notSorted(previous: TreeEntry, next: TreeEntry): CorruptDataError {
  return fsckError("treeNotSorted", `tree entries "${treeEntryName(previous)}" and "${treeEntryName(next)}" are not sorted`);
}

const NAME_RULES = {
  fullPathname: "contains \"/\"",
  hasDot: "is \".\"",
  hasDotdot: "is \"..\"",
  hasDotgit: "would be checked out as \".git\"",
  gitmodulesSymlink: "is a symbolic link named like \".gitmodules\"",
} as const;

/** The message id of the name rule `entry` breaks, if any. */
function badNameRule(entry: TreeEntry): keyof typeof NAME_RULES | undefined {
  const { name } = entry;
  if (name.includes(SLASH)) return "fullPathname";
  if (name[0] === DOT && name.length === 1) return "hasDot";
  if (name[0] === DOT && name[1] === DOT && name.length === 2) return "hasDotdot";
  if (isDotGitName(name)) return "hasDotgit";
  if (entry.mode === FileMode.Symlink && isDotGitmodulesName(name)) return "gitmodulesSymlink";
  return undefined;
}

/**
 * git fsck's tree checks at `receive.fsckObjects` strength (strict: its warnings are errors).
 * Beyond git 2.39, any mode other than the five standard ones and 100664 is refused (git
 * reports badFilemode only as "info"), as parseTree does.
 */
export function fsckTree(data: Uint8Array): void {
  const entries = parseTree(data);
  const files: Uint8Array[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    const rule = badNameRule(entry);
    if (rule !== undefined) throw fsckError(rule, `tree entry "${treeEntryName(entry)}" ${NAME_RULES[rule]}`);
    if (entry.oid === ZERO_OID) throw fsckError("nullSha1", `tree entry "${treeEntryName(entry)}" points to the null object id`);
    if (i > 0) checkOrder(entries[i - 1], entry, files);
  }
}
