import { CorruptDataError, LimitExceededError } from "../errors.ts";
import { commitTime, commitTreeAndParents } from "../object/commit.ts";
import type { GitObject, ObjectReader } from "../object/object.ts";
import { parseTag } from "../object/tag.ts";
import type { Oid } from "../oid.ts";

/** Per-commit marks of a walk (the object flags of git's revision.h that matter here). */
export const enum Mark {
  Uninteresting = 1 << 0,
  /** Queued once already: never queued again by the limiting walk. */
  Seen = 1 << 1,
  /** Parents processed. */
  Added = 1 << 2,
  /** Reached as a parent, not named by the caller (filters apply only to such objects). */
  NotUserGiven = 1 << 3,
  /** Already reported as an edge. */
  Shown = 1 << 4,
  Missing = 1 << 5,
}

/** Longer tag chains than this are taken for corrupt data (a tag cannot name itself). */
const MAX_TAG_CHAIN = 1000;

export interface PeeledObject {
  /** The annotated tags passed through, outermost first. */
  tags: Oid[];
  /** The first object that is not a tag, */
  oid: Oid;
  /** and its content: undefined when the reader lacks it. */
  object: GitObject | undefined;
}

/** Follows annotated tags from `oid` to the object they finally name (git's deref_tag). */
export function peelTags(reader: ObjectReader, oid: Oid): PeeledObject {
  const tags: Oid[] = [];
  let current = oid;
  let object = reader.readObject(current);
  while (object?.type === "tag") {
    if (tags.length === MAX_TAG_CHAIN) throw new LimitExceededError("walk.tag-chain", `tag ${oid} is a chain of more than ${MAX_TAG_CHAIN} tags`);
    tags.push(current);
    current = parseTag(object.data).object;
    object = reader.readObject(current);
  }
  return { tags, oid: current, object };
}

/** A commit as a walk sees it: parsed on demand, once. */
export class CommitNode {
  marks = 0;
  parsed = false;
  tree = "";
  parents: CommitNode[] = [];
  time = 0;
  /** How many times the node sits in a CommitQueue right now. */
  queued = 0;

  constructor(readonly oid: Oid) {}
}

/**
 * The commits of a reader, parsed lazily for one walk. Commits in `grafts` are read as having
 * no parents: a shallow boundary (git's registered shallow commits).
 */
export class CommitGraph {
  private readonly nodes = new Map<Oid, CommitNode>();

  constructor(
    readonly reader: ObjectReader,
    private readonly grafts: ReadonlySet<Oid> = new Set(),
  ) {}

  node(oid: Oid): CommitNode {
    let node = this.nodes.get(oid);
    if (!node) {
      node = new CommitNode(oid);
      this.nodes.set(oid, node);
    }
    return node;
  }

  /** `oid` as a parsed commit, annotated tags peeled; undefined for a missing or other object. */
  peelToCommit(oid: Oid): CommitNode | undefined {
    const peeled = peelTags(this.reader, oid);
    if (peeled.object?.type !== "commit") return undefined;
    const node = this.node(peeled.oid);
    this.parse(node);
    return node;
  }

  /** Reads the commit once; false when the reader does not have it. */
  parse(node: CommitNode): boolean {
    if (node.parsed) return true;
    if (node.marks & Mark.Missing) return false;
    const object = this.reader.readObject(node.oid);
    if (!object) {
      node.marks |= Mark.Missing;
      return false;
    }
    if (object.type !== "commit") throw new CorruptDataError("walk.not-commit", `object ${node.oid} is a ${object.type}, not a commit`);
    const { tree, parents } = commitTreeAndParents(object.data);
    node.tree = tree;
    node.parents = this.grafts.has(node.oid) ? [] : parents.map((parent) => this.node(parent));
    node.time = lenientCommitTime(object.data);
    node.parsed = true;
    return true;
  }
}

/** Like git's parse_commit_date, an unreadable committer date orders the commit as 0. */
function lenientCommitTime(data: Uint8Array): number {
  try {
    return commitTime(data);
  } catch (error) {
    if (error instanceof CorruptDataError) return 0;
    throw error;
  }
}

/**
 * Commits newest first by committer date, first in first out among equal dates: the order of
 * git's commit_list_insert_by_date, which decides rev-list's output order.
 */
export class CommitQueue {
  private readonly heap: { node: CommitNode; sequence: number }[] = [];
  private sequence = 0;

  get size(): number {
    return this.heap.length;
  }

  peek(): CommitNode | undefined {
    return this.heap[0]?.node;
  }

  push(node: CommitNode): void {
    node.queued++;
    const heap = this.heap;
    heap.push({ node, sequence: this.sequence++ });
    let child = heap.length - 1;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!this.before(child, parent)) break;
      [heap[child], heap[parent]] = [heap[parent], heap[child]];
      child = parent;
    }
  }

  pop(): CommitNode | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (!top) return undefined;
    const last = heap.pop() as (typeof heap)[number];
    if (heap.length > 0) {
      heap[0] = last;
      let parent = 0;
      for (;;) {
        const left = parent * 2 + 1;
        const right = left + 1;
        let first = parent;
        if (left < heap.length && this.before(left, first)) first = left;
        if (right < heap.length && this.before(right, first)) first = right;
        if (first === parent) break;
        [heap[first], heap[parent]] = [heap[parent], heap[first]];
        parent = first;
      }
    }
    top.node.queued--;
    return top.node;
  }

  private before(a: number, b: number): boolean {
    const x = this.heap[a];
    const y = this.heap[b];
    return x.node.time > y.node.time || (x.node.time === y.node.time && x.sequence < y.sequence);
  }
}

/** git's SLOP: commits walked past the point where everything queued is uninteresting. */
const SLOP = 5;

/**
 * Separates the commits reachable from interesting tips from those reachable from uninteresting
 * ones, walking no further than the uninteresting side needs (git's revision.c limit_list).
 * `maxAge` makes older commits, and everything below them, uninteresting (rev-list --max-age).
 */
export class LimitedWalk {
  private readonly queue = new CommitQueue();
  /** Queue entries whose commit is still interesting: none left means the walk may stop. */
  private interestingQueued = 0;
  /** Parents that were needed but are absent; the caller decides whether that is an error. */
  readonly missing: CommitNode[] = [];

  constructor(
    readonly graph: CommitGraph,
    private readonly maxAge?: number,
  ) {}

  /** A tip of the walk, parsed by the caller, in the caller's order. */
  addTip(node: CommitNode, uninteresting: boolean): void {
    if (uninteresting) {
      this.setUninteresting(node);
      this.markParentsUninteresting(node);
    }
    if (node.marks & Mark.Seen) return;
    node.marks |= Mark.Seen;
    this.enqueue(node);
  }

  /**
   * Runs the walk: the commits listed as interesting when they were reached, in output order.
   * Some may have turned uninteresting later (check Mark.Uninteresting); git's edge marking
   * looks at exactly this list.
   */
  run(): CommitNode[] {
    const listed: CommitNode[] = [];
    let slop = SLOP;
    let lastListedTime = Infinity;
    for (let commit = this.dequeue(); commit; commit = this.dequeue()) {
      if (this.maxAge !== undefined && commit.time < this.maxAge) commit.marks |= Mark.Uninteresting;
      this.processParents(commit);
      if (commit.marks & Mark.Uninteresting) {
        this.markParentsUninteresting(commit);
        slop = this.stillInteresting(lastListedTime, slop);
        if (slop > 0) continue;
        break;
      }
      lastListedTime = commit.time;
      listed.push(commit);
    }
    return listed;
  }

  /** Marks the ancestors of `commit` known so far uninteresting (git's mark_parents_uninteresting). */
  markParentsUninteresting(commit: CommitNode): void {
    const pending = [...commit.parents];
    for (let node = pending.pop(); node; node = pending.pop()) {
      if (!this.setUninteresting(node)) continue;
      for (const parent of node.parents) pending.push(parent);
    }
  }

  private processParents(commit: CommitNode): void {
    if (commit.marks & Mark.Added) return;
    commit.marks |= Mark.Added;
    if (commit.marks & Mark.Uninteresting) {
      for (const parent of commit.parents) {
        this.setUninteresting(parent);
        // The uninteresting side may reach commits the reader lacks: walk around them.
        if (!this.graph.parse(parent)) continue;
        this.markParentsUninteresting(parent);
        this.queueParent(parent);
      }
      return;
    }
    for (const parent of commit.parents) {
      if (!this.graph.parse(parent)) {
        this.missing.push(parent);
        continue;
      }
      this.queueParent(parent);
    }
  }

  private queueParent(parent: CommitNode): void {
    if (parent.marks & Mark.Seen) return;
    parent.marks |= Mark.Seen | Mark.NotUserGiven;
    this.enqueue(parent);
  }

  /** git's still_interesting: SLOP while an interesting commit may still be found, then count down. */
  private stillInteresting(lastListedTime: number, slop: number): number {
    const next = this.queue.peek();
    if (!next) return 0;
    if (lastListedTime <= next.time) return SLOP;
    if (this.interestingQueued > 0) return SLOP;
    return slop - 1;
  }

  /** Sets the mark, keeping the count of interesting queue entries; false when already set. */
  private setUninteresting(node: CommitNode): boolean {
    if (node.marks & Mark.Uninteresting) return false;
    node.marks |= Mark.Uninteresting;
    this.interestingQueued -= node.queued;
    return true;
  }

  private enqueue(node: CommitNode): void {
    if (!(node.marks & Mark.Uninteresting)) this.interestingQueued++;
    this.queue.push(node);
  }

  private dequeue(): CommitNode | undefined {
    const node = this.queue.pop();
    if (node && !(node.marks & Mark.Uninteresting)) this.interestingQueued--;
    return node;
  }
}
