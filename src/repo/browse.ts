/**
 * Reading a repository at a revision, for the JSON API: a revision's commit, the files of its
 * tree, one file, and the commits that changed a path. Each works on one snapshot.
 */
import { GitError } from "../git/errors.ts";
import {
  commitTreeAndParents,
  decodeObjectText,
  entryAtPath,
  filesUnder,
  isTreeMode,
  parseCommit,
  type Identity,
  type ObjectReader,
  type PathEntry,
} from "../git/object/index.ts";
import { isOid, type Oid } from "../git/oid.ts";
import { commitHistory } from "../git/walk/index.ts";
import { peelTags } from "../git/walk/commits.ts";
import type { Snapshot } from "./snapshot.ts";

/** A revision, path or commit the repository does not have: code `revision.unknown` or `path.unknown`. */
export class NotInRepositoryError extends GitError {}

/** git rev-parse's order for a short name (git's ref_rev_parse_rules, without remotes). */
const REF_RULES = ["%s", "refs/%s", "refs/tags/%s", "refs/heads/%s"];

/**
 * The commit a revision names: `HEAD`, a ref name in full or short (`main`, `heads/main`,
 * `refs/heads/main`, a tag), or a full commit id; tags are peeled. Undefined when it names none.
 */
export function resolveRevision(snapshot: Snapshot, revision: string): Oid | undefined {
  let oid: Oid | undefined;
  if (revision === "HEAD") oid = snapshot.refs.get(snapshot.head);
  else if (isOid(revision)) oid = snapshot.objects.hasObject(revision) ? revision : undefined;
  else oid = REF_RULES.map((rule) => snapshot.refs.get(rule.replace("%s", revision))).find((found) => found !== undefined);
  if (oid === undefined) return undefined;
  const peeled = peelTags(snapshot.objects, oid);
  return peeled.object?.type === "commit" ? peeled.oid : undefined;
}

/** The commit of `revision`, or NotInRepositoryError. */
export function requireRevision(snapshot: Snapshot, revision: string): Oid {
  const commit = resolveRevision(snapshot, revision);
  if (commit === undefined) throw new NotInRepositoryError("revision.unknown", `unknown revision ${JSON.stringify(revision)}`);
  return commit;
}

function treeOf(snapshot: Snapshot, commit: Oid): Oid {
  return commitTreeAndParents(snapshot.objects.readObject(commit)!.data).tree;
}

export type PathContent =
  | { kind: "directory"; files: (PathEntry & { path: string })[] }
  | { kind: "file"; entry: PathEntry; data: Uint8Array };

/**
 * What `path` ("" for the root) is at `commit`: a directory with every file below it, or a
 * file with its content (a submodule has none). NotInRepositoryError when there is nothing.
 */
export function readPath(snapshot: Snapshot, commit: Oid, path: string): PathContent {
  const tree = treeOf(snapshot, commit);
  const entry = path === "" ? { mode: 0o40000, oid: tree } : entryAtPath(snapshot.objects, tree, path);
  if (entry === undefined) throw new NotInRepositoryError("path.unknown", `${path} does not exist at ${commit}`);
  if (isTreeMode(entry.mode)) return { kind: "directory", files: filesUnder(snapshot.objects, entry.oid, path) };
  const object = snapshot.objects.readObject(entry.oid);
  return { kind: "file", entry: { mode: entry.mode, oid: entry.oid }, data: object?.type === "blob" ? object.data : new Uint8Array(0) };
}

export interface Person {
  name: string;
  email: string;
  /** ISO 8601, UTC. */
  time: string;
  /** As written in the commit, "+HHMM" or "-HHMM". */
  timezone: string;
}

export interface CommitSummary {
  id: Oid;
  parents: Oid[];
  author: Person;
  committer: Person;
  message: string;
}

/** The commit `oid` of `objects`, which must hold it, as the API shows commits. */
export function summarizeCommit(objects: ObjectReader, oid: Oid): CommitSummary {
  const commit = parseCommit(objects.readObject(oid)!.data);
  const person = (identity: Identity): Person => ({
    name: decodeObjectText(commit, identity.name),
    email: decodeObjectText(commit, identity.email),
    time: new Date(identity.timestamp * 1000).toISOString(),
    timezone: identity.timezone,
  });
  return { id: oid, parents: commit.parents, author: person(commit.author), committer: person(commit.committer), message: decodeObjectText(commit, commit.message) };
}

/** The commits of `commit`'s history that changed `path` (all when undefined), newest first, at most `limit`. */
export function history(snapshot: Snapshot, commit: Oid, options: { path?: string; limit: number }): CommitSummary[] {
  return commitHistory(snapshot.objects, commit, options).map((oid) => summarizeCommit(snapshot.objects, oid));
}
