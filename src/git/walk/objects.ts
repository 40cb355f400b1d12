import { CorruptDataError, MissingObjectError } from "../errors.ts";
import type { GitObject, ObjectReader, ObjectType } from "../object/object.ts";
import { entryObjectType, TreeEntryCursor } from "../object/tree.ts";
import { OidTable } from "../oid-table.ts";
import type { ObjectInfo } from "../pack/packfile.ts";
import type { Oid } from "../oid.ts";
import type { PackObjectSpec } from "../pack/types.ts";
import { CommitGraph, LimitedWalk, Mark, peelTags, type CommitNode } from "./commits.ts";
import { activateFilter, Situation, Verdict, type ActiveFilter, type ObjectFilter } from "./filter.ts";
import type { ShallowUpdate } from "./shallow.ts";

/** A reader that may also tell an object's type and size without rebuilding it. */
export type WalkReader = ObjectReader & { readInfo?(oid: Oid): ObjectInfo | undefined };

export interface ListObjectsOptions {
  reader: WalkReader;
  /** What the client wants (commits, tags, trees or blobs). */
  include: readonly Oid[];
  /** What the client has; ids the reader lacks are ignored, as upload-pack ignores unknown haves. */
  exclude?: readonly Oid[];
  filter?: ObjectFilter;
  /** From computeShallow: the client's shallow boundary after this fetch. */
  shallow?: ShallowUpdate;
  /**
   * Also count as uninteresting the trees of every uninteresting commit met and of every
   * excluded commit, not only of the parents of sent commits: what pack-objects does for a
   * shallow thin fetch (rev-list --objects-edge-aggressive).
   */
  aggressiveEdges?: boolean;
  /** Called once for each uninteresting commit at the boundary: thin-pack delta base candidates. */
  onEdge?: (commit: Oid) => void;
  /**
   * Annotated tags (the values of refs/tags/*) to add when the object they peel to is sent,
   * with the tags they point through (pack-objects --include-tag).
   */
  includeTags?: readonly Oid[];
}

const utf8 = new TextDecoder();

/** Per-object marks for trees, blobs and tags (commits carry theirs on their CommitNode). */
const enum ObjectMark {
  Uninteresting = 1,
  Seen = 2,
  NotUserGiven = 4,
}

interface PendingObject {
  oid: Oid;
  type: "tag" | "tree" | "blob";
}

/** A tree being walked: a cursor over its entries (none when not walked into) and the path its children are named under. */
interface TreeFrame {
  oid: Oid;
  entries: TreeEntryCursor | undefined;
  base: string;
}

/** What the traversal does with an object the reader lacks. */
type MissingPolicy = { kind: "throw" } | { kind: "record"; found: Oid[] };

/**
 * git's rev-list --objects machinery (revision.c, list-objects.c): tips, the limited commit walk,
 * edge marking, then the trees and blobs of the listed commits, each object once.
 */
class ObjectWalk {
  readonly graph: CommitGraph;
  readonly walk: LimitedWalk;
  readonly output: PackObjectSpec[] = [];
  /** Every object met, numbered; its ObjectMark bits by number. Tree entries are looked up raw. */
  private readonly ids = new OidTable();
  private marks = new Uint8Array(1024);
  private readonly pending: PendingObject[] = [];
  /** Excluded commits, for aggressive edge marking. */
  private readonly excludedCommits: CommitNode[] = [];
  private readonly filter: ActiveFilter | undefined;

  constructor(
    private readonly reader: WalkReader,
    private readonly missing: MissingPolicy,
    filter: ObjectFilter | undefined,
    grafts?: ReadonlySet<Oid>,
  ) {
    this.graph = new CommitGraph(reader, grafts);
    this.walk = new LimitedWalk(this.graph);
    this.filter = filter && activateFilter(filter, (oid) => this.blobSize(oid));
  }

  /** A command-line object (git's handle_commit): tags peeled, commits queued, the rest pending. */
  addTip(oid: Oid, uninteresting: boolean): void {
    const { tags, oid: current, object } = peelTags(this.reader, oid);
    for (const tag of tags) {
      if (uninteresting) this.mark(tag, ObjectMark.Uninteresting);
      else this.pending.push({ oid: tag, type: "tag" });
    }
    if (!object) {
      // An uninteresting id the reader lacks is ignored, as upload-pack ignores unknown haves.
      if (!uninteresting) this.onMissing(current);
      return;
    }
    if (object.type === "commit") {
      const node = this.graph.node(current);
      this.graph.parse(node);
      if (uninteresting) this.excludedCommits.push(node);
      this.walk.addTip(node, uninteresting);
    } else if (uninteresting) {
      if (object.type === "tree") this.markTreeUninteresting(current);
      else this.mark(current, ObjectMark.Uninteresting);
    } else {
      this.pending.push({ oid: current, type: object.type });
    }
  }

  /** Walks commits, marks edges, then lists commits followed by tags, trees and blobs. */
  run(aggressiveEdges: boolean, onEdge?: (commit: Oid) => void): void {
    const listed = this.walk.run();
    for (const node of this.walk.missing) this.onMissing(node.oid);
    this.markEdges(listed, aggressiveEdges, onEdge);
    for (const commit of listed) {
      if (commit.marks & Mark.Uninteresting) continue;
      this.mark(commit.tree, ObjectMark.NotUserGiven);
      this.pending.push({ oid: commit.tree, type: "tree" });
      const verdict = commit.marks & Mark.NotUserGiven ? this.decide(Situation.Commit, commit.oid) : Verdict.Show;
      if (verdict & Verdict.Show) this.output.push({ oid: commit.oid, type: "commit" });
    }
    for (const { oid, type } of this.pending) {
      if (this.has(oid, ObjectMark.Uninteresting | ObjectMark.Seen)) continue;
      if (type === "tag") this.showIf(oid, "tag", undefined, this.filterFor(Situation.Tag, oid));
      else if (type === "tree") this.walkTree(oid);
      else this.visitBlob(oid, "");
    }
  }

  /** pack-objects --include-tag: tags whose peeled object is listed, with their tag chain. */
  includeTags(tags: readonly Oid[]): void {
    const listed = new Set(this.output.map((spec) => spec.oid));
    for (const tag of tags) {
      const { tags: chain, oid: current } = peelTags(this.reader, tag);
      if (chain.length === 0 || !listed.has(current)) continue;
      for (const oid of chain) {
        if (listed.has(oid)) continue;
        listed.add(oid);
        this.output.push({ oid, type: "tag" });
      }
    }
  }

  /**
   * git's mark_edges_uninteresting: the trees of uninteresting parents of listed commits (all
   * uninteresting commits, when aggressive) are the client's, so nothing in them is sent.
   */
  private markEdges(listed: CommitNode[], aggressive: boolean, onEdge?: (commit: Oid) => void): void {
    const edge = (node: CommitNode) => {
      if (node.parsed) this.markTreeUninteresting(node.tree);
      if (onEdge && !(node.marks & Mark.Shown)) {
        node.marks |= Mark.Shown;
        onEdge(node.oid);
      }
    };
    for (const commit of listed) {
      if (commit.marks & Mark.Uninteresting) {
        if (aggressive) edge(commit);
        else if (commit.parsed) this.markTreeUninteresting(commit.tree);
        continue;
      }
      for (const parent of commit.parents) if (parent.marks & Mark.Uninteresting) edge(parent);
    }
    if (aggressive) for (const commit of this.excludedCommits) edge(commit);
  }

  /** Marks a tree and everything below it uninteresting; absent trees are skipped, as git does. */
  private markTreeUninteresting(root: Oid): void {
    const stack = [root];
    for (let oid = stack.pop(); oid !== undefined; oid = stack.pop()) {
      if (this.has(oid, ObjectMark.Uninteresting)) continue;
      this.mark(oid, ObjectMark.Uninteresting);
      const tree = this.reader.readObject(oid);
      if (tree?.type !== "tree") continue;
      for (const entry = new TreeEntryCursor(tree.data); entry.next(); ) {
        const type = entryObjectType(entry.mode);
        if (type === "gitlink") continue;
        const number = this.numberAt(tree.data, entry.oidOffset);
        if (this.marks[number] & ObjectMark.Uninteresting) continue;
        if (type === "tree") stack.push(entry.oid);
        else this.marks[number] |= ObjectMark.Uninteresting;
      }
    }
  }

  /** git's process_tree, depth first with an explicit stack: a tree, then its entries in order. */
  private walkTree(root: Oid): void {
    const frames: TreeFrame[] = [];
    const enter = (oid: Oid, path: string) => {
      if (this.has(oid, ObjectMark.Uninteresting | ObjectMark.Seen)) return;
      const tree = this.readTree(oid);
      const verdict = this.filterFor(Situation.BeginTree, oid);
      this.showIf(oid, "tree", path, verdict);
      const walkInto = tree && !(verdict & Verdict.SkipTree);
      frames.push({ oid, entries: walkInto ? new TreeEntryCursor(tree.data) : undefined, base: path === "" ? "" : `${path}/` });
    };
    enter(root, "");
    while (frames.length > 0) {
      const frame = frames[frames.length - 1];
      const entry = frame.entries;
      if (!entry?.next()) {
        frames.pop();
        this.showIf(frame.oid, "tree", undefined, this.filterFor(Situation.EndTree, frame.oid));
        continue;
      }
      const type = entryObjectType(entry.mode);
      if (type === "gitlink") continue;
      const number = this.numberAt(entry.data, entry.oidOffset);
      this.marks[number] |= ObjectMark.NotUserGiven;
      // Most entries were met before (unchanged files): skip them before making their id and path.
      if (this.marks[number] & (ObjectMark.Uninteresting | ObjectMark.Seen)) continue;
      const path = frame.base + utf8.decode(entry.name);
      if (type === "tree") enter(entry.oid, path);
      else this.visitBlob(entry.oid, path);
    }
  }

  private visitBlob(oid: Oid, path: string): void {
    if (this.has(oid, ObjectMark.Uninteresting | ObjectMark.Seen)) return;
    if (this.missing.kind === "record" && !this.reader.hasObject(oid)) {
      this.mark(oid, ObjectMark.Seen);
      this.onMissing(oid);
      return;
    }
    this.showIf(oid, "blob", path, this.filterFor(Situation.Blob, oid));
  }

  private showIf(oid: Oid, type: ObjectType, path: string | undefined, verdict: number): void {
    if (verdict & Verdict.MarkSeen) this.mark(oid, ObjectMark.Seen);
    if (verdict & Verdict.Show) this.output.push(path === undefined ? { oid, type } : { oid, type, path });
  }

  /** Filters judge only objects reached by the walk; those named by the caller always go. */
  private filterFor(situation: Situation, oid: Oid): number {
    if (this.has(oid, ObjectMark.NotUserGiven)) return this.decide(situation, oid);
    return situation === Situation.EndTree ? Verdict.Zero : Verdict.Show | Verdict.MarkSeen;
  }

  private decide(situation: Situation, oid: Oid): number {
    if (!this.filter) return situation === Situation.EndTree ? Verdict.Zero : Verdict.Show | Verdict.MarkSeen;
    return this.filter.decide(situation, oid);
  }

  private readTree(oid: Oid): GitObject | undefined {
    const tree = this.reader.readObject(oid);
    if (!tree) {
      this.onMissing(oid);
      return undefined;
    }
    if (tree.type !== "tree") throw new CorruptDataError("walk.not-tree", `object ${oid} is a ${tree.type}, where a tree was expected`);
    return tree;
  }

  private onMissing(oid: Oid): void {
    if (this.missing.kind === "throw") throw new MissingObjectError(oid);
    this.missing.found.push(oid);
  }

  private blobSize(oid: Oid): number | undefined {
    if (this.reader.readInfo) return this.reader.readInfo(oid)?.size;
    return this.reader.readObject(oid)?.data.length;
  }

  private has(oid: Oid, marks: number): boolean {
    const number = this.ids.find(oid);
    return number >= 0 && (this.marks[number] & marks) !== 0;
  }

  private mark(oid: Oid, marks: number): void {
    this.marks[this.numbered(this.ids.add(oid))] |= marks;
  }

  /** The number of the raw id at `bytes[offset..]`, which is added when new. */
  private numberAt(bytes: Uint8Array, offset: number): number {
    return this.numbered(this.ids.addAt(bytes, offset));
  }

  /** `number`, once the marks have room for it. */
  private numbered(number: number): number {
    if (number >= this.marks.length) {
      const grown = new Uint8Array(this.marks.length * 2);
      grown.set(this.marks);
      this.marks = grown;
    }
    return number;
  }
}

/**
 * Every object reachable from `include` and not from `exclude`, as `git rev-list --objects`
 * (and upload-pack's pack-objects) lists them: commits newest first, then tags, trees and blobs,
 * each tree before its entries, trees and blobs named by their path. Like git, the trees of the
 * boundary commits stand for everything the client has, so the walk never goes through the
 * excluded history. Throws MissingObjectError when a needed object is absent.
 */
export function listObjects(options: ListObjectsOptions): PackObjectSpec[] {
  const { shallow } = options;
  const walk = new ObjectWalk(options.reader, { kind: "throw" }, options.filter, shallow && new Set(shallow.boundary));
  for (const oid of options.include) walk.addTip(oid, false);
  for (const oid of shallow?.parentsOfUnshallowed ?? []) walk.addTip(oid, false);
  for (const oid of options.exclude ?? []) walk.addTip(oid, true);
  for (const oid of shallow?.unshallow ?? []) walk.addTip(oid, true);
  walk.run(options.aggressiveEdges ?? false, options.onEdge);
  if (options.includeTags) walk.includeTags(options.includeTags);
  return walk.output;
}

/**
 * The push connectivity check (git's check_connected: rev-list --objects NEW --not EXISTING):
 * the objects reachable from `tips` that the reader lacks, not walking into what is reachable
 * from `complete` (the existing ref tips). Empty when the tips are fully connected; the walk
 * does not descend below a missing object.
 */
export function findMissing(reader: WalkReader, tips: readonly Oid[], complete: readonly Oid[]): Oid[] {
  const found: Oid[] = [];
  const walk = new ObjectWalk(reader, { kind: "record", found }, undefined);
  for (const oid of tips) walk.addTip(oid, false);
  for (const oid of complete) walk.addTip(oid, true);
  walk.run(false);
  return [...new Set(found)];
}
