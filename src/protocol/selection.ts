import { commitTreeAndParents, entryObjectType, parseTree, treeEntryName, type ObjectReader } from "../git/object/index.ts";
import type { Oid } from "../git/oid.ts";
import type { PackObjectSpec } from "../git/pack/types.ts";
import { computeShallow, listObjects, type ShallowUpdate } from "../git/walk/index.ts";
import type { FetchRequest } from "./fetch-request.ts";
import type { RepositorySnapshot } from "./snapshot.ts";

/** A request checked against the snapshot, its names resolved to ids. */
export interface ResolvedFetch {
  request: FetchRequest;
  /** Object wants and the targets of want-refs, checked to be ours. */
  wants: Oid[];
  /** The client's shallow commits that exist here. */
  shallows: Oid[];
  deepenNot: Oid[];
}

/** The shallow and unshallow lines of a fetch, and the boundary the object walk keeps to. */
export function shallowUpdate(snapshot: RepositorySnapshot, fetch: ResolvedFetch): ShallowUpdate {
  const { request } = fetch;
  return computeShallow(snapshot.objects, fetch.wants, {
    clientShallow: fetch.shallows,
    depth: request.depth,
    deepenRelative: request.deepenRelative,
    deepenSince: request.deepenSince,
    deepenNot: fetch.deepenNot,
  });
}

/** Boundary commits whose trees are offered as thin-pack bases; git has no cap, but a few suffice. */
const MAX_THIN_EDGES = 16;

/**
 * Thin-pack delta bases (pack-objects --thin, "preferred bases"): in the trees of the edge
 * commits, which the client has, the trees and blobs found at the paths of the objects sent.
 * Like git's add_pbase_object, only directories on those paths are read.
 */
function thinBases(reader: ObjectReader, edges: readonly Oid[], specs: readonly PackObjectSpec[]): PackObjectSpec[] {
  const sentPaths = new Set<string>();
  const directories = new Set<string>([""]);
  for (const spec of specs) {
    if (spec.path === undefined || spec.type === "commit" || spec.type === "tag") continue;
    sentPaths.add(spec.path);
    for (let slash = spec.path.indexOf("/"); slash >= 0; slash = spec.path.indexOf("/", slash + 1)) directories.add(spec.path.slice(0, slash));
  }
  const bases: PackObjectSpec[] = [];
  const added = new Set<Oid>();
  const add = (oid: Oid, type: "tree" | "blob", path: string) => {
    if (sentPaths.has(path) && !added.has(oid)) {
      added.add(oid);
      bases.push({ oid, type, path });
    }
  };
  for (const edge of edges.slice(0, MAX_THIN_EDGES)) {
    const commit = reader.readObject(edge);
    if (commit?.type !== "commit") continue;
    const root = commitTreeAndParents(commit.data).tree;
    add(root, "tree", "");
    const pending: Array<[Oid, string]> = [[root, ""]];
    for (let next = pending.pop(); next; next = pending.pop()) {
      const [oid, base] = next;
      const tree = reader.readObject(oid);
      if (tree?.type !== "tree") continue;
      for (const entry of parseTree(tree.data)) {
        const type = entryObjectType(entry.mode);
        if (type !== "tree" && type !== "blob") continue;
        const path = base === "" ? treeEntryName(entry) : `${base}/${treeEntryName(entry)}`;
        add(entry.oid, type, path);
        if (type === "tree" && directories.has(path)) pending.push([entry.oid, path]);
      }
    }
  }
  return bases;
}

/** The objects to pack (git's rev-list --objects as pack-objects runs it) and the thin bases. */
/** The objects refs/tags/* point at: what include-tag may add to a pack. */
export function tagTips(snapshot: RepositorySnapshot): Oid[] {
  return [...snapshot.refs].filter(([name]) => name.startsWith("refs/tags/")).map(([, oid]) => oid);
}

export function selectObjects(
  snapshot: RepositorySnapshot,
  fetch: ResolvedFetch,
  shallow: ShallowUpdate,
  common: readonly Oid[],
): { specs: PackObjectSpec[]; thinBases: PackObjectSpec[] } {
  const { request } = fetch;
  const edges: Oid[] = [];
  const specs = listObjects({
    reader: snapshot.objects,
    include: fetch.wants,
    exclude: common,
    filter: request.filter,
    shallow,
    // pack-objects walks with --objects-edge-aggressive for a thin pack to a shallow client.
    aggressiveEdges: request.thinPack && shallow.boundary.length > 0,
    onEdge: request.thinPack ? (commit) => edges.push(commit) : undefined,
    includeTags: request.includeTag ? tagTips(snapshot) : undefined,
  });
  return { specs, thinBases: request.thinPack ? thinBases(snapshot.objects, edges, specs) : [] };
}
