import { GitError, MissingObjectError } from "../errors.ts";
import type { ObjectReader } from "../object/object.ts";
import type { Oid } from "../oid.ts";
import { CommitGraph, LimitedWalk, Mark, type CommitNode } from "./commits.ts";

/** `deepen 2147483647`, what `git fetch --unshallow` sends (git's shallow.h INFINITE_DEPTH). */
export const INFINITE_DEPTH = 0x7fffffff;

/** The shallow part of a fetch request (gitprotocol-pack "Shallow", gitprotocol-v2 "fetch"). */
export interface DeepenRequest {
  /** The client's "shallow" lines: the commits at its current boundary. */
  clientShallow?: readonly Oid[];
  /** "deepen N": commits from the wants, 1 meaning the wants alone. Absent or 0 for none. */
  depth?: number;
  /** "deepen-relative": count `depth` from the client's current boundary instead. */
  deepenRelative?: boolean;
  /** "deepen-since": seconds since the epoch; older commits are not sent. */
  deepenSince?: number;
  /** "deepen-not", resolved to ids: history reachable from these is not sent. */
  deepenNot?: readonly Oid[];
}

/** What upload-pack tells the client, and how the object walk must then treat history. */
export interface ShallowUpdate {
  /** "shallow X" lines: commits that become boundary commits for the client. */
  shallow: Oid[];
  /** "unshallow X" lines: client boundary commits whose parents are now sent. */
  unshallow: Oid[];
  /** Commits whose parents the object walk must not follow: the new and the client's boundary. */
  boundary: Oid[];
  /** The parents of the unshallowed commits: wanted too, as upload-pack adds them to its wants. */
  parentsOfUnshallowed: Oid[];
}

function parseOrThrow(graph: CommitGraph, node: CommitNode): CommitNode {
  if (!graph.parse(node)) throw new MissingObjectError(node.oid);
  return node;
}

/**
 * The commits at `depth` from `heads` (git's shallow.c get_shallow_commits): a depth-first walk
 * that revisits a commit when it is reached by a shorter path. `reached` ends holding every
 * commit walked through, which the client will have with its parents.
 */
function commitsAtDepth(graph: CommitGraph, heads: CommitNode[], depth: number): { atDepth: CommitNode[]; reached: Set<CommitNode> } {
  const depths = new Map<CommitNode, number>();
  const stack: CommitNode[] = [];
  const atDepth: CommitNode[] = [];
  const reached = new Set<CommitNode>();
  let next = 0;
  let commit: CommitNode | undefined;
  let currentDepth = 0;
  while (commit || next < heads.length || stack.length > 0) {
    if (!commit) {
      if (next < heads.length) {
        commit = heads[next++];
        depths.set(commit, 0);
        currentDepth = 0;
      } else {
        commit = stack.pop() as CommitNode;
        currentDepth = depths.get(commit) as number;
      }
    }
    parseOrThrow(graph, commit);
    currentDepth++;
    if (currentDepth >= depth) {
      atDepth.push(commit);
      commit = undefined;
      continue;
    }
    reached.add(commit);
    const parents = commit.parents;
    commit = undefined;
    for (let i = 0; i < parents.length; i++) {
      const parent = parents[i];
      const known = depths.get(parent);
      if (known !== undefined && currentDepth >= known) continue;
      depths.set(parent, currentDepth);
      if (i < parents.length - 1) stack.push(parent);
      else commit = parent;
    }
  }
  // git prepends each find to its result list.
  return { atDepth: atDepth.reverse(), reached };
}

/**
 * How deep the client's boundary lies below the wants: the shortest distance (the wants at 1)
 * to any of its shallow commits, or 0 when none is reachable (git's get_shallows_depth).
 */
function boundaryDepth(graph: CommitGraph, heads: CommitNode[], clientShallow: ReadonlySet<CommitNode>): number {
  const seen = new Set<CommitNode>(heads);
  let level = heads;
  for (let depth = 1; level.length > 0; depth++) {
    const nextLevel: CommitNode[] = [];
    for (const commit of level) {
      if (clientShallow.has(commit)) return depth;
      for (const parent of parseOrThrow(graph, commit).parents) {
        if (seen.has(parent)) continue;
        seen.add(parent);
        nextLevel.push(parent);
      }
    }
    level = nextLevel;
  }
  return 0;
}

/**
 * deepen-since and deepen-not (git's get_shallow_commits_by_rev_list): the commits of
 * `rev-list --max-age=SINCE WANTS --not DEEPEN_NOT`; those with a parent outside are the boundary.
 */
function commitsByRevList(graph: CommitGraph, heads: CommitNode[], request: DeepenRequest): { atDepth: CommitNode[]; reached: Set<CommitNode> } {
  const walk = new LimitedWalk(graph, request.deepenSince);
  for (const oid of request.deepenNot ?? []) {
    const node = graph.peelToCommit(oid);
    if (node) walk.addTip(node, true);
  }
  for (const head of heads) walk.addTip(head, false);
  const selected = walk.run().filter((commit) => !(commit.marks & Mark.Uninteresting));
  if (selected.length === 0) throw new GitError("walk.no-shallow-commits", "no commits selected for shallow requests");
  const reached = new Set(selected);
  const atDepth = selected.filter((commit) => commit.parents.some((parent) => !reached.has(parent)));
  for (const commit of atDepth) reached.delete(commit);
  return { atDepth, reached };
}

/**
 * The shallow and unshallow lines for a fetch, as git's upload-pack computes them (deepen,
 * deepen_by_rev_list, send_shallow, send_unshallow), and the boundary the object walk then uses.
 * Client shallow commits the reader lacks are ignored; one that is not a commit is an error.
 */
export function computeShallow(reader: ObjectReader, wants: readonly Oid[], request: DeepenRequest): ShallowUpdate {
  const graph = new CommitGraph(reader);
  const clientShallow: CommitNode[] = [];
  for (const oid of new Set(request.clientShallow ?? [])) {
    const node = graph.node(oid);
    if (graph.parse(node)) clientShallow.push(node);
  }
  const depth = request.depth ?? 0;
  const byRevList = request.deepenSince !== undefined || (request.deepenNot?.length ?? 0) > 0;
  if (depth > 0 && byRevList) {
    throw new GitError("walk.deepen-conflict", "deepen and deepen-since (or deepen-not) cannot be used together");
  }
  const heads = wants.map((oid) => graph.peelToCommit(oid)).filter((node) => node !== undefined);
  const clientSet = new Set(clientShallow);
  let atDepth: CommitNode[] = [];
  let reached = new Set<CommitNode>();
  if (depth >= INFINITE_DEPTH) {
    reached = clientSet;
  } else if (depth > 0) {
    const below = request.deepenRelative ? boundaryDepth(graph, heads, clientSet) : 0;
    if (!request.deepenRelative || below > 0) ({ atDepth, reached } = commitsAtDepth(graph, heads, depth + below));
  } else if (byRevList) {
    ({ atDepth, reached } = commitsByRevList(graph, heads, request));
  }
  const shallow = [...new Set(atDepth.filter((commit) => !clientSet.has(commit) && !reached.has(commit)))];
  const unshallow = clientShallow.filter((commit) => reached.has(commit));
  return {
    shallow: shallow.map((commit) => commit.oid),
    unshallow: unshallow.map((commit) => commit.oid),
    boundary: [...shallow, ...clientShallow].map((commit) => commit.oid),
    parentsOfUnshallowed: unshallow.flatMap((commit) => commit.parents.map((parent) => parent.oid)),
  };
}
