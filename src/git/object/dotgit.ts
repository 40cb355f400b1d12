/**
 * Tree entry names that a checkout on some file system would turn into ".git" or ".gitmodules"
 * (git's fsck hasDotgit and gitmodulesSymlink; utf8.c is_hfs_dotgit, path.c is_ntfs_dotgit).
 * HFS+ ignores case and some zero-width code points; NTFS ignores case, trailing dots and
 * spaces, an alternate data stream after ':', and answers to 8.3 short names ("GIT~1").
 */
const DOT = 0x2e;
const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const SPACE = 0x20;
const TILDE = 0x7e;
/** What nextHfsChar returns at the end of the name and for malformed UTF-8 (as git does). */
const END = 0;

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/** Whether `name` at `offset` holds `needle` (lower-case ASCII), ignoring ASCII case. */
function matchesIgnoringCase(name: Uint8Array, offset: number, needle: string): boolean {
  if (offset + needle.length > name.length) return false;
  for (let i = 0; i < needle.length; i++) {
    if (lower(name[offset + i]) !== needle.charCodeAt(i)) return false;
  }
  return true;
}

/** Code points HFS+ drops when it compares names. */
function isHfsIgnorable(codePoint: number): boolean {
  return (
    (codePoint >= 0x200c && codePoint <= 0x200f) ||
    (codePoint >= 0x202a && codePoint <= 0x202e) ||
    (codePoint >= 0x206a && codePoint <= 0x206f) ||
    codePoint === 0xfeff
  );
}

/** Decodes the UTF-8 character at cursor.offset strictly (no overlong forms, surrogates, U+FFFE/F). */
function nextCodePoint(name: Uint8Array, cursor: { offset: number }): number {
  const at = cursor.offset;
  const first = name[at];
  const width = first < 0x80 ? 1 : first >= 0xc2 && first <= 0xdf ? 2 : first >= 0xe0 && first <= 0xef ? 3 : first >= 0xf0 && first <= 0xf4 ? 4 : 0;
  if (width === 0 || at + width > name.length) return -1;
  let codePoint = width === 1 ? first : first & (0xff >> (width + 1));
  for (let i = 1; i < width; i++) {
    const next = name[at + i];
    if ((next & 0xc0) !== 0x80) return -1;
    codePoint = (codePoint << 6) | (next & 0x3f);
  }
  const shortest = width === 3 ? 0x800 : width === 4 ? 0x10000 : 0;
  if (codePoint < shortest || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff) || codePoint === 0xfffe || codePoint === 0xffff) return -1;
  cursor.offset = at + width;
  return codePoint;
}

function nextHfsChar(name: Uint8Array, cursor: { offset: number }): number {
  while (cursor.offset < name.length) {
    const codePoint = nextCodePoint(name, cursor);
    if (codePoint < 0) return END;
    if (!isHfsIgnorable(codePoint)) return codePoint;
  }
  return END;
}

/** HFS+: "." + needle, case-insensitively, with ignorable code points anywhere. */
function isHfsDotName(name: Uint8Array, needle: string): boolean {
  const cursor = { offset: 0 };
  if (nextHfsChar(name, cursor) !== DOT) return false;
  for (let i = 0; i < needle.length; i++) {
    const c = nextHfsChar(name, cursor);
    if (c > 0x7f || lower(c) !== needle.charCodeAt(i)) return false;
  }
  const after = nextHfsChar(name, cursor);
  return after === END || after === SLASH;
}

/** NTFS drops trailing dots and spaces, and reads "name:stream" as "name". */
function onlyDotsAndSpacesFrom(name: Uint8Array, offset: number): boolean {
  for (let i = offset; i < name.length; i++) {
    const c = name[i];
    if (c === COLON) return true;
    if (c !== DOT && c !== SPACE) return false;
  }
  return true;
}

/** NTFS ".git" or its short name "git~1", starting at `offset`, up to a separator or the end. */
function isNtfsDotGit(name: Uint8Array, offset: number): boolean {
  let i: number;
  if (name[offset] === DOT && matchesIgnoringCase(name, offset + 1, "git")) i = offset + 4;
  else if (matchesIgnoringCase(name, offset, "git") && name[offset + 3] === TILDE && name[offset + 4] === 0x31) i = offset + 5;
  else return false;
  for (; i < name.length; i++) {
    const c = name[i];
    if (c === SLASH || c === BACKSLASH || c === COLON) return true;
    if (c !== DOT && c !== SPACE) return false;
  }
  return true;
}

/**
 * NTFS ".gitmodules", its short names "gitmod~1".."gitmod~4", and the hashed fallback short
 * names ("gi7eba~N": up to six characters of the hash prefix, a tilde and digits).
 */
function isNtfsDotGitmodules(name: Uint8Array, offset: number): boolean {
  const needle = "gitmodules";
  if (name[offset] === DOT && matchesIgnoringCase(name, offset + 1, needle)) {
    return onlyDotsAndSpacesFrom(name, offset + 1 + needle.length);
  }
  const digitAt = (i: number, min: number) => name[offset + i] >= min && name[offset + i] <= 0x39;
  if (matchesIgnoringCase(name, offset, needle.slice(0, 6)) && name[offset + 6] === TILDE && digitAt(7, 0x31) && name[offset + 7] <= 0x34) {
    return onlyDotsAndSpacesFrom(name, offset + 8);
  }
  const hashPrefix = "gi7eba";
  let sawTilde = false;
  for (let i = 0; i < 8; i++) {
    if (offset + i >= name.length) return false;
    const c = name[offset + i];
    if (sawTilde) {
      if (!digitAt(i, 0x30)) return false;
    } else if (c === TILDE) {
      i++;
      if (!digitAt(i, 0x31)) return false;
      sawTilde = true;
    } else if (i >= 6 || lower(c) !== hashPrefix.charCodeAt(i)) {
      return false;
    }
  }
  return onlyDotsAndSpacesFrom(name, offset + 8);
}

/** Whether the name, or any part after a backslash (a separator on Windows), passes `test`. */
function anyNtfsComponent(name: Uint8Array, test: (name: Uint8Array, offset: number) => boolean): boolean {
  if (test(name, 0)) return true;
  for (let slash = name.indexOf(BACKSLASH); slash >= 0; slash = name.indexOf(BACKSLASH, slash + 1)) {
    if (test(name, slash + 1)) return true;
  }
  return false;
}

/** A name some file system would treat as ".git" (fsck hasDotgit). */
export function isDotGitName(name: Uint8Array): boolean {
  // Fast path for most names: every match starts with ".", "g", a non-ASCII ignorable, or has a "\\".
  const first = lower(name[0]);
  if (first !== DOT && first !== 0x67 && first < 0x80 && !name.includes(BACKSLASH)) return false;
  return isHfsDotName(name, "git") || anyNtfsComponent(name, isNtfsDotGit);
}

/** A name some file system would treat as ".gitmodules" (fsck gitmodulesSymlink). */
export function isDotGitmodulesName(name: Uint8Array): boolean {
  return isHfsDotName(name, "gitmodules") || anyNtfsComponent(name, isNtfsDotGitmodules);
}
