import { MissingObjectError } from "../errors.ts";
import type { ObjectReader } from "../object/object.ts";
import { entryAtPath } from "../object/tree-path.ts";
import type { Oid } from "../oid.ts";
import { CommitGraph, CommitQueue, Mark, type CommitNode } from "./commits.ts";

export interface HistoryOptions {
  /** Only commits that change this path (a file or a directory). */
  path?: string;
  /** At most this many commits. */
  limit: number;
}

/**
 * The commits reachable from `tip`, newest first by committer date (`git log`'s order). With a
 * path, git log's default history simplification: a commit is listed when the path differs from
 * every parent (from nothing for a root commit), and a merge whose path equals one parent's is
 * followed through that parent only. Tags at `tip` are peeled.
 */
export function commitHistory(reader: ObjectReader, tip: Oid, options: HistoryOptions): Oid[] {
  const graph = new CommitGraph(reader);
  const start = graph.peelToCommit(tip);
  if (!start) throw new MissingObjectError(tip, `${tip} is not a commit this repository has`);
  const entries = new Map<CommitNode, string | undefined>();
  const pathEntry = (node: CommitNode): string | undefined => {
    if (!entries.has(node)) {
      const entry = entryAtPath(reader, node.tree, options.path as string);
      entries.set(node, entry && `${entry.mode} ${entry.oid}`);
    }
    return entries.get(node);
  };
  const queue = new CommitQueue();
  const listed: Oid[] = [];
  start.marks |= Mark.Seen;
  queue.push(start);
  while (listed.length < options.limit && queue.size > 0) {
    const commit = queue.pop() as CommitNode;
    for (const parent of commit.parents) if (!graph.parse(parent)) throw new MissingObjectError(parent.oid);
    let follow = commit.parents;
    let changed = true;
    if (options.path !== undefined) {
      const same = commit.parents.find((parent) => pathEntry(parent) === pathEntry(commit));
      changed = same === undefined && (commit.parents.length > 0 || pathEntry(commit) !== undefined);
      if (same) follow = [same];
    }
    if (changed) listed.push(commit.oid);
    for (const parent of follow) {
      if (parent.marks & Mark.Seen) continue;
      parent.marks |= Mark.Seen;
      queue.push(parent);
    }
  }
  return listed;
}
