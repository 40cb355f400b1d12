import { MissingObjectError } from "../errors.ts";
import type { ObjectReader } from "../object/object.ts";
import type { Oid } from "../oid.ts";
import { CommitGraph, CommitQueue, type CommitNode } from "./commits.ts";

const enum Paint {
  FromAncestor = 1 << 8,
  FromDescendant = 1 << 9,
  Stale = 1 << 10,
}

/**
 * Whether `ancestor` is reachable from `descendant` (or is it): `git merge-base --is-ancestor`,
 * used for fast-forward checks. Tags are peeled. Both sides are painted down in date order
 * (git's paint_down_to_common); the walk stops once every queued commit is reachable from both,
 * so a non-ancestor costs the history since the merge base, not the whole history. Dates only
 * order the walk: the answer is exact even with skewed clocks.
 */
export function isAncestor(reader: ObjectReader, ancestor: Oid, descendant: Oid): boolean {
  const graph = new CommitGraph(reader);
  const from = graph.peelToCommit(descendant);
  if (!from) throw new MissingObjectError(descendant, `${descendant} is not a commit this repository has`);
  const target = graph.peelToCommit(ancestor);
  if (!target) return false;
  if (target === from) return true;
  const queue = new CommitQueue();
  let activeQueued = 0;
  const enqueue = (node: CommitNode, paint: number) => {
    node.marks |= paint;
    queue.push(node);
    if (!(node.marks & Paint.Stale)) activeQueued++;
  };
  enqueue(target, Paint.FromAncestor);
  enqueue(from, Paint.FromDescendant);
  while (activeQueued > 0) {
    const commit = queue.pop() as CommitNode;
    if (!(commit.marks & Paint.Stale)) activeQueued--;
    let paint = commit.marks & (Paint.FromAncestor | Paint.FromDescendant | Paint.Stale);
    if ((paint & (Paint.FromAncestor | Paint.FromDescendant)) === (Paint.FromAncestor | Paint.FromDescendant)) paint |= Paint.Stale;
    for (const parent of commit.parents) {
      if ((parent.marks & paint) === paint) continue;
      if (!graph.parse(parent)) throw new MissingObjectError(parent.oid);
      const wasStale = (parent.marks & Paint.Stale) !== 0;
      const entriesBefore = parent.queued;
      enqueue(parent, paint);
      // Entries queued before the parent turned stale no longer keep the walk going.
      if (!wasStale && parent.marks & Paint.Stale) activeQueued -= entriesBefore;
    }
    if (target.marks & Paint.FromDescendant) return true;
  }
  return (target.marks & Paint.FromDescendant) !== 0;
}

/**
 * The client's haves that the server has: what upload-pack acknowledges (git's got_oid counts
 * any object it has, though clients send commits).
 */
export function commonHaves(reader: ObjectReader, haves: readonly Oid[]): Oid[] {
  return [...new Set(haves)].filter((oid) => reader.hasObject(oid));
}

/**
 * Whether every want reaches something the client has, so the server can stop negotiating and
 * send "ready" (git's upload-pack ok_to_give_up, can_all_from_reach_with_flag). The client has
 * its common have commits and their parents; commits older than the oldest have are not walked.
 * Wants that are not commits are ignored, as git ignores them.
 */
export function allReachable(reader: ObjectReader, wants: readonly Oid[], common: readonly Oid[]): boolean {
  const graph = new CommitGraph(reader);
  const theyHave = new Set<CommitNode>();
  let oldestHave = Infinity;
  for (const oid of common) {
    const object = reader.readObject(oid);
    if (object?.type !== "commit") continue;
    const have = graph.node(oid);
    graph.parse(have);
    theyHave.add(have);
    for (const parent of have.parents) theyHave.add(parent);
    oldestHave = Math.min(oldestHave, have.time);
  }
  if (common.length === 0) return false;
  const visited = new Set<CommitNode>();
  const reachesHave = new Set<CommitNode>();
  const done = (node: CommitNode) => theyHave.has(node) || reachesHave.has(node);
  for (const oid of wants) {
    const start = graph.peelToCommit(oid);
    if (!start) continue;
    visited.add(start);
    // Depth first, one parent at a time; a commit reaches a have when any parent does.
    const stack = [start];
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (done(top)) {
        stack.pop();
        if (stack.length > 0) reachesHave.add(stack[stack.length - 1]);
        continue;
      }
      let descended = false;
      for (const parent of top.parents) {
        if (done(parent)) reachesHave.add(top);
        if (visited.has(parent)) continue;
        visited.add(parent);
        if (!graph.parse(parent) || parent.time < oldestHave) continue;
        stack.push(parent);
        descended = true;
        break;
      }
      if (!descended) stack.pop();
    }
    if (!done(start)) return false;
  }
  return true;
}
