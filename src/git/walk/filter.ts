import type { ObjectType } from "../object/object.ts";
import type { Oid } from "../oid.ts";

/**
 * A partial-clone filter (git-rev-list(1) "--filter=<filter-spec>", gitprotocol-v2 "filter").
 * The protocol layer parses the spec into this shape.
 */
export type ObjectFilter =
  | { kind: "blob:none" }
  /** Omits blobs of `limit` bytes or more. */
  | { kind: "blob:limit"; limit: number }
  /** Omits trees and blobs at `depth` or more below the root tree: tree:0 sends no tree. */
  | { kind: "tree"; depth: number }
  | { kind: "object:type"; type: ObjectType }
  /** An object is sent only when every filter sends it. */
  | { kind: "combine"; filters: ObjectFilter[] };

/** Where the walk is when it asks the filter (git's list_objects_filter_situation). */
export const enum Situation {
  Commit,
  Tag,
  BeginTree,
  EndTree,
  Blob,
}

/** The filter's answer, as bits (git's list_objects_filter_result). */
export const enum Verdict {
  Zero = 0,
  /** Do not consider the object again. */
  MarkSeen = 1,
  Show = 2,
  /** Do not descend into this tree. */
  SkipTree = 4,
}

/**
 * A filter in use during one walk: it may keep state (tree depths), so a new one is made per
 * walk. `blobSize` answers undefined for a blob the reader lacks, which is then sent anyway.
 */
export interface ActiveFilter {
  decide(situation: Situation, oid: Oid): number;
}

const SHOW_AND_MARK = Verdict.Show | Verdict.MarkSeen;

/** Commits and tags pass every filter but object:type; trees pass the blob filters. */
function blobFilter(include: (oid: Oid) => boolean): ActiveFilter {
  return {
    decide(situation, oid) {
      if (situation === Situation.EndTree) return Verdict.Zero;
      if (situation !== Situation.Blob) return SHOW_AND_MARK;
      return include(oid) ? SHOW_AND_MARK : Verdict.MarkSeen;
    },
  };
}

/**
 * tree:N (git's filter_trees_depth). It never marks trees seen, so a tree met again closer to
 * the root is walked again and its deeper contents can still be included.
 */
function treeDepthFilter(excludeDepth: number): ActiveFilter {
  const shallowestSeen = new Map<Oid, number>();
  let currentDepth = 0;
  return {
    decide(situation, oid) {
      const include = currentDepth < excludeDepth;
      switch (situation) {
        case Situation.Commit:
        case Situation.Tag:
          return SHOW_AND_MARK;
        case Situation.EndTree:
          currentDepth--;
          return Verdict.Zero;
        case Situation.Blob:
          return include ? SHOW_AND_MARK : Verdict.Zero;
        case Situation.BeginTree: {
          const seenAt = shallowestSeen.get(oid);
          let verdict: number;
          if (seenAt !== undefined && currentDepth >= seenAt) verdict = Verdict.SkipTree;
          else {
            shallowestSeen.set(oid, currentDepth);
            verdict = include ? Verdict.Show : Verdict.SkipTree;
          }
          currentDepth++;
          return verdict;
        }
      }
    },
  };
}

function objectTypeFilter(type: ObjectType): ActiveFilter {
  const verdictFor = (objectType: ObjectType) => (objectType === type ? SHOW_AND_MARK : Verdict.MarkSeen);
  return {
    decide(situation) {
      switch (situation) {
        case Situation.Commit:
          return verdictFor("commit");
        case Situation.Tag:
          return verdictFor("tag");
        case Situation.Blob:
          return verdictFor("blob");
        case Situation.EndTree:
          return Verdict.Zero;
        case Situation.BeginTree:
          // Showing only commits or tags: no need to walk down trees.
          if (type === "commit" || type === "tag") return Verdict.SkipTree;
          return verdictFor("tree");
      }
    },
  };
}

/** One filter of a combine: its own seen set and tree skipping (git's process_subfilter). */
class SubFilter {
  private readonly seen = new Set<Oid>();
  skippingTree: Oid | undefined;

  constructor(private readonly filter: ActiveFilter) {}

  decide(situation: Situation, oid: Oid): number {
    if (this.skippingTree !== undefined) {
      if (situation !== Situation.EndTree || oid !== this.skippingTree) return Verdict.Zero;
      this.skippingTree = undefined;
    }
    if (this.seen.has(oid)) return Verdict.Zero;
    const verdict = this.filter.decide(situation, oid);
    if (verdict & Verdict.MarkSeen) this.seen.add(oid);
    if (verdict & Verdict.SkipTree) this.skippingTree = oid;
    return verdict;
  }
}

/** combine: shown only when all show, seen only when all mark, skipped only when all skip. */
function combineFilter(filters: ActiveFilter[]): ActiveFilter {
  const subs = filters.map((filter) => new SubFilter(filter));
  return {
    decide(situation, oid) {
      let combined = Verdict.Show | Verdict.MarkSeen | Verdict.SkipTree;
      for (const sub of subs) {
        const verdict = sub.decide(situation, oid);
        if (!(verdict & Verdict.Show)) combined &= ~Verdict.Show;
        if (!(verdict & Verdict.MarkSeen)) combined &= ~Verdict.MarkSeen;
        if (sub.skippingTree === undefined) combined &= ~Verdict.SkipTree;
      }
      return combined;
    },
  };
}

/** The active form of `filter` for one walk. */
export function activateFilter(filter: ObjectFilter, blobSize: (oid: Oid) => number | undefined): ActiveFilter {
  switch (filter.kind) {
    case "blob:none":
      return blobFilter(() => false);
    case "blob:limit":
      return blobFilter((oid) => {
        const size = blobSize(oid);
        return size === undefined || size < filter.limit;
      });
    case "tree":
      return treeDepthFilter(filter.depth);
    case "object:type":
      return objectTypeFilter(filter.type);
    case "combine":
      return combineFilter(filter.filters.map((sub) => activateFilter(sub, blobSize)));
  }
}
