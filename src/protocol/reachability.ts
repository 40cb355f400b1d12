import { MissingObjectError } from "../git/errors.ts";
import { commitTreeAndParents, entryObjectType, parseTag, parseTree } from "../git/object/index.ts";
import type { Oid } from "../git/oid.ts";
import type { RepositorySnapshot } from "./snapshot.ts";

/** The ids the refs point at, HEAD included: what "a ref tip" means for allow-tip-sha1-in-want. */
export function refTips(snapshot: RepositorySnapshot): Set<Oid> {
  return new Set(snapshot.refs.values());
}

/**
 * Which of `targets` no ref reaches (allow-reachable-sha1-in-want, gitprotocol-capabilities).
 * Commits and tags are searched first; trees and blobs only when a target is still missing,
 * and every walk stops as soon as all targets are found.
 */
export function unreachableFrom(snapshot: RepositorySnapshot, targets: Iterable<Oid>): Oid[] {
  const missing = new Set(targets);
  const { objects } = snapshot;
  const trees: Oid[] = [];
  const seen = new Set<Oid>();
  const queue: Oid[] = [...refTips(snapshot)];
  for (const oid of queue) seen.add(oid);
  while (queue.length > 0 && missing.size > 0) {
    const oid = queue.pop()!;
    missing.delete(oid);
    const object = objects.readObject(oid);
    if (!object) throw new MissingObjectError(oid);
    let next: Oid[] = [];
    if (object.type === "commit") {
      const { tree, parents } = commitTreeAndParents(object.data);
      trees.push(tree);
      next = parents;
    } else if (object.type === "tag") {
      next = [parseTag(object.data).object];
    } else if (object.type === "tree") {
      trees.push(oid);
    }
    for (const parent of next) {
      if (!seen.has(parent)) {
        seen.add(parent);
        queue.push(parent);
      }
    }
  }
  const seenTrees = new Set<Oid>(trees);
  while (trees.length > 0 && missing.size > 0) {
    const tree = trees.pop()!;
    missing.delete(tree);
    const object = objects.readObject(tree);
    if (!object) throw new MissingObjectError(tree);
    for (const entry of parseTree(object.data)) {
      const type = entryObjectType(entry.mode);
      if (type === "blob") missing.delete(entry.oid);
      else if (type === "tree" && !seenTrees.has(entry.oid)) {
        seenTrees.add(entry.oid);
        trees.push(entry.oid);
      }
    }
  }
  return [...missing];
}
