/**
 * Change events (DESIGN.md, Contract, "Blocks"; README, "Change events"): what one committed update
 * of one ref did, built inside the commit's transaction from the objects the write brings.
 */
import { changedFiles, TreeFiles, type FileChange } from "../blocks/changes.ts";
import { detectLayout, INDEX_FILE, labelOf, type BlockLayout } from "../blocks/layout.ts";
import { commitTreeAndParents, type ObjectReader } from "../git/object/index.ts";
import { ZERO_OID, type Oid } from "../git/oid.ts";
import type { RefUpdate } from "../git/refname.ts";
import { peelTags } from "../git/walk/commits.ts";
import { summarizeCommit } from "../repo/browse.ts";
import { sharedRepositoryId } from "../repo/layout.ts";
import type { PendingCommit } from "../repo/repository.ts";

export type PathChange = "added" | "modified" | "deleted";

export interface ChangedPath {
  path: string;
  /** The block label of the path, in the layout of the tree that holds it (the old one for a deletion). */
  label?: string;
  change: PathChange;
}

export interface EventCommit {
  id: Oid;
  author: { name: string; email: string };
  message: string;
  /** The author's time, ISO 8601 UTC. */
  time: string;
}

/** One committed update of one ref, of an agent's own memory or of a shared repository. */
export interface ChangeEvent {
  org: string;
  /** The agent whose own memory changed; absent for a shared repository. */
  agent?: string;
  /** The shared repository that changed (added by EventLog.append, which reads it in the commit's transaction). */
  repository?: { id: string; name: string };
  /** With `repository`: the agents attached to it when the change was committed, whose streams have the event. */
  agents?: string[];
  /** The manifest generation the commit created; every update of one push shares it. */
  generation: number;
  ref: string;
  /** The ref's old and new object ids; null when it did not exist before, or was deleted. */
  before: Oid | null;
  after: Oid | null;
  /** The commit the ref now points at (tags peeled); null when deleted or not a commit. */
  commit: EventCommit | null;
  /** Paths changed between the old and new commit's trees, sorted; at most MAX_EVENT_PATHS. */
  paths: ChangedPath[];
  /** Present when more paths changed than the event lists (a new branch of a large tree). */
  paths_truncated?: true;
  source: "git" | "api";
}

/** An event as recorded: `seq` orders an organisation's events in commit order (the organisation stream's cursor). */
export interface RecordedEvent extends ChangeEvent {
  seq: number;
}

/**
 * An event row stays small whatever the push: a new branch of a tree with 100,000 files lists
 * the first thousand, which is more than any page shows, and says it left the rest out.
 */
export const MAX_EVENT_PATHS = 1000;

/** The commit `oid` names, tags peeled; undefined for the zero id, or an object that is not a commit. */
function commitOf(objects: ObjectReader, oid: Oid): Oid | undefined {
  if (oid === ZERO_OID) return undefined;
  const peeled = peelTags(objects, oid);
  return peeled.object?.type === "commit" ? peeled.oid : undefined;
}

function eventCommit(objects: ObjectReader, oid: Oid): EventCommit {
  const { id, author, message } = summarizeCommit(objects, oid);
  return { id, author: { name: author.name, email: author.email }, message, time: author.time };
}

/** The label of `path` in `tree`, which holds it, read with the tree's own layout. */
function labeller(objects: ObjectReader, tree: Oid | undefined, blockLayout: BlockLayout): (path: string) => string | undefined {
  const files = new TreeFiles(objects, tree);
  const layout = detectLayout(files.has(INDEX_FILE), blockLayout);
  return (path) => labelOf(layout, path, (other) => files.has(other));
}

function changeOf(change: FileChange): PathChange {
  return change.old === undefined ? "added" : change.new === undefined ? "deleted" : "modified";
}

function treeOf(objects: ObjectReader, commit: Oid | undefined): Oid | undefined {
  return commit === undefined ? undefined : commitTreeAndParents(objects.readObject(commit)!.data).tree;
}

/** The event of one ref update of `pending`. */
export function changeEvent(pending: PendingCommit, update: RefUpdate, blockLayout: BlockLayout): ChangeEvent {
  const { objects } = pending;
  const oldCommit = commitOf(objects, update.oldOid);
  const newCommit = commitOf(objects, update.newOid);
  const oldTree = treeOf(objects, oldCommit);
  const newTree = treeOf(objects, newCommit);
  const changes = changedFiles(objects, oldTree, newTree);
  const oldLabel = labeller(objects, oldTree, blockLayout);
  const newLabel = labeller(objects, newTree, blockLayout);
  const paths = changes.slice(0, MAX_EVENT_PATHS).map((change): ChangedPath => {
    const kind = changeOf(change);
    const label = (kind === "deleted" ? oldLabel : newLabel)(change.path);
    return label === undefined ? { path: change.path, change: kind } : { path: change.path, label, change: kind };
  });
  return {
    org: pending.org,
    ...(sharedRepositoryId(pending.repo) === undefined && { agent: pending.repo }),
    generation: pending.generation,
    ref: update.ref,
    before: update.oldOid === ZERO_OID ? null : update.oldOid,
    after: update.newOid === ZERO_OID ? null : update.newOid,
    commit: newCommit === undefined ? null : eventCommit(objects, newCommit),
    paths,
    ...(changes.length > MAX_EVENT_PATHS && { paths_truncated: true as const }),
    // Maintenance changes no refs, so it never gets here.
    source: pending.source === "api" ? "api" : "git",
  };
}

/** The events of a pending commit: one per ref update, in request order. */
export function changeEvents(pending: PendingCommit, blockLayout: BlockLayout): ChangeEvent[] {
  return pending.updates.map((update) => changeEvent(pending, update, blockLayout));
}
