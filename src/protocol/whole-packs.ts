import { commitTreeAndParents, parseTag } from "../git/object/index.ts";
import type { Oid } from "../git/oid.ts";
import type { PackFile } from "../git/pack/packfile.ts";
import { packReferences } from "../git/pack/references.ts";
import type { SnapshotObjects } from "./snapshot.ts";

/** Roots beyond this many make the check costlier than it is worth: the clone walks instead. */
const MAX_ROOTS = 10_000;

/**
 * Full clones without an object walk. A full clone sends exactly what the wants reach. When
 * every object of every pack is reachable from the wants, that is every object of the packs,
 * and the packs can be sent as they are stored (concatPacks). Each pack knows which of its
 * objects other objects of it refer to (packReferences: learnt while a push is indexed, else by
 * one pass over the pack); the objects nothing refers to, in any pack, are the roots, and
 * everything else is reachable from them (ids are acyclic). So the packs qualify when every root
 * is a want or a commit the wants reach: a walk over commits only, and only down to the roots.
 * Returns the packs, or undefined when they hold anything else (after a force push or a deleted
 * branch, or for a clone of some of the refs): the caller walks as before.
 */
export function wholePacksFor(objects: SnapshotObjects, wants: readonly Oid[]): readonly PackFile[] | undefined {
  const { packs } = objects;
  if (!packs || packs.length === 0 || objects.unpackedCount !== 0) return undefined;
  const wanted = new Set(wants);
  const rootCommits = new Set<Oid>();
  for (const pack of packs) {
    const referenced = packReferences(pack);
    for (let position = 0; position < pack.objectCount; position++) {
      if (referenced[position]) continue;
      const oid = pack.index.oidAt(position);
      if (wanted.has(oid) || referencedElsewhere(oid, pack, packs)) continue;
      if (pack.typeAt(pack.index.offsetAt(position)) !== "commit" || rootCommits.size >= MAX_ROOTS) return undefined;
      rootCommits.add(oid);
    }
  }
  return reachesAll(objects, wants, rootCommits) ? packs : undefined;
}

function referencedElsewhere(oid: Oid, pack: PackFile, packs: readonly PackFile[]): boolean {
  return packs.some((other) => {
    if (other === pack) return false;
    const position = other.index.findPosition(oid);
    return position >= 0 && packReferences(other)[position] === 1;
  });
}

/** Whether the commits reachable from `wants` (through tags) include every one of `commits`. */
function reachesAll(objects: SnapshotObjects, wants: readonly Oid[], commits: Set<Oid>): boolean {
  const missing = new Set(commits);
  const seen = new Set<Oid>(wants);
  const pending = [...wants];
  while (missing.size > 0 && pending.length > 0) {
    const oid = pending.pop() as Oid;
    missing.delete(oid);
    const object = objects.readObject(oid);
    let next: readonly Oid[] = [];
    if (object?.type === "commit") next = commitTreeAndParents(object.data).parents;
    else if (object?.type === "tag") next = [parseTag(object.data).object];
    for (const target of next) {
      if (seen.has(target)) continue;
      seen.add(target);
      pending.push(target);
    }
  }
  return missing.size === 0;
}
