/**
 * Which objects of a pack other objects of the same pack refer to. Ids are acyclic, so from any
 * object of a pack, following "is referred to by" within the pack ends at an object nothing in
 * the pack refers to: a root. Every object of the pack is reachable from its roots; when the
 * roots of every pack of a repository are reachable from a client's wants, the packs hold
 * exactly what a clone must send, and can be sent as they are (see the protocol's full clones).
 */
import { commitTreeAndParents } from "../object/commit.ts";
import type { ObjectType } from "../object/object.ts";
import { parseTag } from "../object/tag.ts";
import { FileMode, TreeEntryCursor } from "../object/tree.ts";
import type { Oid } from "../oid.ts";
import type { PackFile } from "./packfile.ts";

/** Calls `visit` with each id a commit (its tree and parents) or a tag (its object) refers to; nothing for blobs. */
export function headerReferences(type: ObjectType, data: Uint8Array, visit: (oid: Oid) => void): void {
  if (type === "commit") {
    const { tree, parents } = commitTreeAndParents(data);
    visit(tree);
    for (const parent of parents) visit(parent);
  } else if (type === "tag") {
    visit(parseTag(data).object);
  }
}

/**
 * 1 at the index position of every object that some object of `pack` refers to, else 0: a
 * pass over the pack's commits, trees and tags in pack order (bases before their deltas, so
 * the object cache serves them). References to objects outside the pack are ignored.
 */
function scanReferences(pack: PackFile): Uint8Array {
  const referenced = new Uint8Array(pack.objectCount);
  const { index } = pack;
  const byHex = (oid: Oid) => {
    const position = index.findPosition(oid);
    if (position >= 0) referenced[position] = 1;
  };
  for (const position of pack.positionsInPackOrder()) {
    const offset = index.offsetAt(position);
    if (pack.typeAt(offset) === "blob") continue;
    const { type, data } = pack.readAt(offset);
    if (type !== "tree") {
      headerReferences(type, data, byHex);
      continue;
    }
    for (const cursor = new TreeEntryCursor(data); cursor.next(); ) {
      if (cursor.mode === FileMode.Gitlink) continue;
      const found = index.findPositionAt(data, cursor.oidOffset);
      if (found >= 0) referenced[found] = 1;
    }
  }
  return referenced;
}

const scanned = new WeakMap<PackFile, Uint8Array>();

/** scanReferences of `pack` with default options, computed once per pack (packs never change). */
export function packReferences(pack: PackFile): Uint8Array {
  let referenced = scanned.get(pack);
  if (!referenced) {
    referenced = scanReferences(pack);
    scanned.set(pack, referenced);
  }
  return referenced;
}

/** The flags of `pack` when they are known already (remembered or scanned), without scanning it. */
export function knownPackReferences(pack: PackFile): Uint8Array | undefined {
  return scanned.get(pack);
}

/** Records flags found elsewhere (a push's checks, made while indexing), so packReferences need not read the pack. */
export function rememberPackReferences(pack: PackFile, referenced: Uint8Array): void {
  if (referenced.length !== pack.objectCount) throw new RangeError(`${referenced.length} flags for a pack of ${pack.objectCount} objects`);
  scanned.set(pack, referenced);
}
