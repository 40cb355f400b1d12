/**
 * Tree objects: a sequence of "<octal mode> SP <name> NUL <20-byte id>" entries, sorted by name
 * with directories compared as if their name ended in "/" (git's tree.c base_name_compare).
 */
import { CorruptDataError } from "../errors.ts";
import { isOid, OID_BYTES, oidToHex, writeOid, type Oid } from "../oid.ts";
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
 * Reads a tree's entries in place, one at a time: the current entry's mode, where its name lies
 * in `data` and where its 20-byte id starts. No object, string or hex id is made per entry,
 * which matters when a walk meets millions of entries. Structure, modes and zero-padding are
 * checked as the cursor moves (CorruptDataError); name and order rules are fsckTree's.
 */
export class TreeEntryCursor {
  mode = 0;
  nameStart = 0;
  nameEnd = 0;
  oidOffset = 0;
  private offset = 0;

  constructor(readonly data: Uint8Array) {}

  /** Moves to the next entry; false after the last one. */
  next(): boolean {
    const { data } = this;
    const offset = this.offset;
    if (offset >= data.length) return false;
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
    let nameEnd = nameStart;
    while (nameEnd < data.length && data[nameEnd] !== NUL) nameEnd++;
    if (nameEnd + 1 + OID_BYTES > data.length) throw fsckError("badTree", `truncated tree entry at offset ${offset}`);
    if (nameEnd === nameStart) throw fsckError("emptyName", `empty name in tree entry at offset ${offset}`);
    this.mode = mode;
    this.nameStart = nameStart;
    this.nameEnd = nameEnd;
    this.oidOffset = nameEnd + 1;
    this.offset = nameEnd + 1 + OID_BYTES;
    return true;
  }

  /** The current entry's name: a view into `data`. */
  get name(): Uint8Array {
    return this.data.subarray(this.nameStart, this.nameEnd);
  }

  get oid(): Oid {
    return oidToHex(this.data, this.oidOffset);
  }

  get entry(): TreeEntry {
    return { mode: this.mode, name: this.name, oid: this.oid };
  }
}

/** Parses a tree. Entries keep views into `data` (no copy); checked as TreeEntryCursor checks. */
export function parseTree(data: Uint8Array): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const cursor = new TreeEntryCursor(data); cursor.next(); ) entries.push(cursor.entry);
  return entries;
}

/** An entry's name as a range of some bytes, with its mode: what tree order compares. */
interface NameRange {
  bytes: Uint8Array;
  start: number;
  end: number;
  mode: number;
}

function rangeOf(entry: TreeEntry): NameRange {
  return { bytes: entry.name, start: 0, end: entry.name.length, mode: entry.mode };
}

function nameLength(name: NameRange): number {
  return name.end - name.start;
}

/** The byte a name continues with at `index`: past its end, "/" for a directory. */
function sortByteAt(name: NameRange, index: number): number {
  if (index < name.end - name.start) return name.bytes[name.start + index];
  return name.mode === FileMode.Tree ? SLASH : NUL;
}

function commonPrefixLength(a: NameRange, b: NameRange): number {
  const length = Math.min(nameLength(a), nameLength(b));
  let i = 0;
  while (i < length && a.bytes[a.start + i] === b.bytes[b.start + i]) i++;
  return i;
}

/** git's tree order: byte-wise, with a directory's name compared as if followed by "/". */
export function compareTreeEntries(a: TreeEntry, b: TreeEntry): number {
  const [left, right] = [rangeOf(a), rangeOf(b)];
  const common = commonPrefixLength(left, right);
  return sortByteAt(left, common) - sortByteAt(right, common);
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

function nameText(name: NameRange): string {
  return utf8.decode(name.bytes.subarray(name.start, name.end));
}

function startsWithName(name: NameRange, prefix: Uint8Array): boolean {
  return nameLength(name) >= prefix.length && startsWith(name.bytes, name.start, prefix);
}

/**
 * Checks that `next` sorts after `previous` and that no file and directory share a name. Such a
 * pair need not be adjacent ("foo", "foo.bar", "foo/"), so files that are a prefix of later
 * names wait on `files` until a directory settles them (git's fsck.c verify_ordered).
 */
function checkOrder(previous: NameRange, next: NameRange, files: Uint8Array[]): void {
  const common = commonPrefixLength(previous, next);
  if (common < nameLength(previous) && common < nameLength(next)) {
    if (previous.bytes[previous.start + common] > next.bytes[next.start + common]) throw notSorted(previous, next);
    return;
  }
  if (nameLength(previous) === nameLength(next)) throw fsckError("duplicateEntries", `tree contains duplicate entries named "${nameText(next)}"`);
  const before = sortByteAt(previous, common);
  const after = sortByteAt(next, common);
  if (before === NUL && isBelowSlash(after)) {
    files.push(previous.bytes.subarray(previous.start, previous.end));
  } else if (after === SLASH && isBelowSlash(before)) {
    while (files.length > 0) {
      const file = files.pop() as Uint8Array;
      if (!startsWithName(next, file)) continue;
      if (nameLength(next) === file.length) {
        throw fsckError("duplicateEntries", `tree contains a file and a directory named "${nameText(next)}"`);
      }
      if (isBelowSlash(next.bytes[next.start + file.length])) {
        files.push(file);
        break;
      }
    }
  }
  if (before >= after) throw notSorted(previous, next);
}

function notSorted(previous: NameRange, next: NameRange): CorruptDataError {
  return fsckError("treeNotSorted", `tree entries "${nameText(previous)}" and "${nameText(next)}" are not sorted`);
}

const NAME_RULES = {
  fullPathname: "contains \"/\"",
  hasDot: "is \".\"",
  hasDotdot: "is \"..\"",
  hasDotgit: "would be checked out as \".git\"",
  gitmodulesSymlink: "is a symbolic link named like \".gitmodules\"",
} as const;

const BACKSLASH = 0x5c;

/**
 * Whether a name may break a name rule: one starting with ".", "g"/"G" or a non-ASCII byte, or
 * holding "/" or "\\" (see isDotGitName). Most names do not, and are settled by this one scan.
 */
function mayBreakNameRule(name: NameRange): boolean {
  const first = name.bytes[name.start] | 0x20;
  if (first === (DOT | 0x20) || first === 0x67 || first >= 0x80) return true;
  for (let i = name.start; i < name.end; i++) {
    const c = name.bytes[i];
    if (c === SLASH || c === BACKSLASH) return true;
  }
  return false;
}

/** The message id of the name rule `entry` breaks, if any. */
function badNameRule(range: NameRange): keyof typeof NAME_RULES | undefined {
  if (!mayBreakNameRule(range)) return undefined;
  const name = range.bytes.subarray(range.start, range.end);
  if (name.includes(SLASH)) return "fullPathname";
  if (name[0] === DOT && name.length === 1) return "hasDot";
  if (name[0] === DOT && name[1] === DOT && name.length === 2) return "hasDotdot";
  if (isDotGitName(name)) return "hasDotgit";
  if (range.mode === FileMode.Symlink && isDotGitmodulesName(name)) return "gitmodulesSymlink";
  return undefined;
}

function isZeroOidAt(data: Uint8Array, offset: number): boolean {
  for (let i = 0; i < OID_BYTES; i++) if (data[offset + i] !== 0) return false;
  return true;
}

/**
 * git fsck's tree checks at `receive.fsckObjects` strength (strict: its warnings are errors).
 * Beyond git 2.39, any mode other than the five standard ones and 100664 is refused (git
 * reports badFilemode only as "info"), as parseTree does. `onEntry` sees each entry once it
 * passed, so that a caller can follow the references in the same pass.
 */
export function fsckTree(data: Uint8Array, onEntry?: (cursor: TreeEntryCursor) => void): void {
  const files: Uint8Array[] = [];
  let previous: NameRange | undefined;
  let current: NameRange = { bytes: data, start: 0, end: 0, mode: 0 };
  for (const cursor = new TreeEntryCursor(data); cursor.next(); ) {
    current.start = cursor.nameStart;
    current.end = cursor.nameEnd;
    current.mode = cursor.mode;
    const rule = badNameRule(current);
    if (rule !== undefined) throw fsckError(rule, `tree entry "${nameText(current)}" ${NAME_RULES[rule]}`);
    if (isZeroOidAt(data, cursor.oidOffset)) throw fsckError("nullSha1", `tree entry "${nameText(current)}" points to the null object id`);
    if (previous) checkOrder(previous, current, files);
    onEntry?.(cursor);
    const spare = previous ?? { bytes: data, start: 0, end: 0, mode: 0 };
    previous = current;
    current = spare;
  }
}
