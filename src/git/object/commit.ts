/**
 * Commit objects: "tree", "parent"*, "author", "committer", extra headers, an empty line and the
 * message (no document specifies it; git's commit.c parse_commit_buffer and fsck.c fsck_commit
 * define it).
 */
import type { Oid } from "../oid.ts";
import { ascii, ByteBuilder, fsckError, NUL, startsWith } from "./bytes.ts";
import { OID_LINE_REST, parseHeadersAndMessage, readOidLine, requiredLine, verifyHeaders, finishObject, type HeadersAndMessage } from "./headers.ts";
import { parseIdentity, writeIdentityLine, type Identity } from "./identity.ts";

/** `headers` are every header after "committer", in order (encoding, mergetag, gpgsig, others). */
export interface Commit extends HeadersAndMessage {
  tree: Oid;
  parents: Oid[];
  author: Identity;
  committer: Identity;
}

const TREE = ascii("tree ");
const PARENT = ascii("parent ");
const AUTHOR = ascii("author ");
const COMMITTER = ascii("committer ");

interface CommitHead {
  tree: Oid;
  parents: Oid[];
  /** Where the line after the last parent starts. */
  offset: number;
}

function readTreeAndParents(data: Uint8Array): CommitHead {
  if (!startsWith(data, 0, TREE)) throw fsckError("missingTree", "commit does not start with a \"tree\" line");
  const tree = readOidLine(data, 0, TREE, "badTreeSha1");
  const parents: Oid[] = [];
  let offset = TREE.length + OID_LINE_REST;
  while (startsWith(data, offset, PARENT)) {
    parents.push(readOidLine(data, offset, PARENT, "badParentSha1"));
    offset += PARENT.length + OID_LINE_REST;
  }
  return { tree, parents, offset };
}

/** Tree and parents only, for reachability walks: reads nothing past the parent lines. */
export function commitTreeAndParents(data: Uint8Array): { tree: Oid; parents: Oid[] } {
  const { tree, parents } = readTreeAndParents(data);
  return { tree, parents };
}

/** The committer timestamp, for date-ordered walks: reads only the header lines up to it. */
export function commitTime(data: Uint8Array): number {
  const [, authorEnd] = requiredLine(data, readTreeAndParents(data).offset, AUTHOR, "missingAuthor");
  const [start, end] = requiredLine(data, authorEnd + 1, COMMITTER, "missingCommitter");
  return parseIdentity(data, start, end).timestamp;
}

/** Parses and validates a commit's structure; the result serializes back to the same bytes. */
export function parseCommit(data: Uint8Array): Commit {
  verifyHeaders(data);
  const { tree, parents, offset } = readTreeAndParents(data);
  const [authorStart, authorEnd] = requiredLine(data, offset, AUTHOR, "missingAuthor");
  const author = parseIdentity(data, authorStart, authorEnd);
  if (startsWith(data, authorEnd + 1, AUTHOR)) throw fsckError("multipleAuthors", "commit has more than one \"author\" line");
  const [committerStart, committerEnd] = requiredLine(data, authorEnd + 1, COMMITTER, "missingCommitter");
  const committer = parseIdentity(data, committerStart, committerEnd);
  return { tree, parents, author, committer, ...parseHeadersAndMessage(data, committerEnd + 1) };
}

/** git fsck's commit checks at `receive.fsckObjects` strength (a NUL anywhere is an error). */
export function fsckCommit(data: Uint8Array): void {
  parseCommit(data);
  const nul = data.indexOf(NUL);
  if (nul >= 0) throw fsckError("nulInCommit", `NUL byte in the commit at offset ${nul}`);
}

/** Serializes a commit; throws CorruptDataError when the result would not pass fsckCommit. */
export function serializeCommit(commit: Commit): Uint8Array {
  const out = new ByteBuilder().text(`tree ${commit.tree}\n`);
  for (const parent of commit.parents) out.text(`parent ${parent}\n`);
  writeIdentityLine(out, AUTHOR, commit.author);
  writeIdentityLine(out, COMMITTER, commit.committer);
  return finishObject(out, commit, fsckCommit);
}
