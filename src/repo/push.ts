import type { Codec } from "../git/codec/codec.ts";
import { CorruptDataError, GitError } from "../git/errors.ts";
import { FileMode, fsckObject, fsckTree, type ObjectReader, type ObjectType } from "../git/object/index.ts";
import { IDX_OIDS_START } from "../git/idxfile/format.ts";
import { OidTable } from "../git/oid-table.ts";
import { ObjectDatabase } from "../git/odb/index.ts";
import { OID_BYTES, ZERO_OID, type Oid } from "../git/oid.ts";
import { readPackHeader } from "../git/pack/format.ts";
import { indexPack, type IndexedPack } from "../git/pack/input/index.ts";
import { headerReferences, rememberPackReferences } from "../git/pack/references.ts";
import type { PackLimits } from "../git/pack/types.ts";
import { isUpdatableRefName, type RefUpdate, type RefUpdateStatus } from "../git/refname.ts";
import { isAncestor } from "../git/walk/index.ts";
import { preparePack, type LoadedPack } from "./packs.ts";
import type { Snapshot } from "./snapshot.ts";
import { collectionPacer } from "./collection.ts";

/**
 * The checks of a push (DESIGN.md, "The push transaction", step 3), as git's receive-pack makes
 * them (builtin/receive-pack.c): the pack is indexed and its objects checked once, then every
 * command is judged against a snapshot — again after a lost compare-and-swap.
 */

/**
 * A repository rule beyond git's (the memory rules): what it says of `update`, or undefined when
 * it has nothing to say. `objects` holds the repository's and the pushed objects.
 */
export type UpdateCheck = (update: RefUpdate, objects: ObjectReader, snapshot: Snapshot) => Promise<UpdateVerdict | undefined> | UpdateVerdict | undefined;

export interface UpdateVerdict {
  /** Why the update is refused (its `ng` reason); undefined when it is accepted. */
  refusal?: string;
  /** Lines for the user, e.g. one `path: reason` per problem (side-band 2, `remote:`). */
  messages: readonly string[];
}

export interface PushRequest {
  updates: readonly RefUpdate[];
  /** The pack that followed the commands, possibly thin; absent for delete-only pushes. */
  pack?: Uint8Array;
  /** All updates or none (the `atomic` capability). */
  atomic?: boolean;
  /** Allow non-fast-forward updates of branches and deleting the default branch. */
  allowForcePush?: boolean;
  limits?: Partial<PackLimits>;
  pushOptions?: readonly string[];
  checkUpdate?: UpdateCheck;
}

/** report-status reasons: git's words (builtin/receive-pack.c) wherever git has a case, so users see familiar ones. */
export const Reason = {
  unpackerError: "unpacker error",
  funnyRefname: "funny refname",
  duplicate: "duplicate ref update",
  fetchFirst: "fetch first",
  missingObjects: "missing necessary objects",
  notCommit: "branches must point to commits",
  nonFastForward: "non-fast-forward",
  deleteCurrent: "deletion of the current branch prohibited",
  atomicFailure: "atomic push failure",
} as const;

/** The pushed objects, indexed and checked. */
export interface IncomingObjects {
  /** The pack to store, or undefined when the push brought no objects. */
  pack?: LoadedPack;
  /**
   * A pushed object that refers to an object neither pushed nor in the repository. Storing
   * such a pack would break the invariant every check here relies on: each stored object's
   * references are stored too. Updates to pushed objects are then refused.
   */
  dangling?: Oid;
}

/** Pack bytes per object the reference table makes room for up front (real packs have hundreds). */
const MIN_BYTES_PER_REFERENCED_OBJECT = 64;

/**
 * Indexing makes short-lived buffers for every object (inflated data, deltas, their results),
 * and the collector lets them pile up in proportion to the heap, which holds the pack, before
 * it runs. Asking for a collection after this many objects, or this much object data, kept
 * the peak of indexing a 39 MiB pack of 119k objects at 185 MiB instead of 335 MiB, and took
 * 30% less CPU (fewer fresh pages to fault in); every 16k objects kept most of the peak.
 */
const OBJECTS_PER_COLLECTION = 1000;
const BYTES_PER_COLLECTION = 8 * 1024 * 1024;

/**
 * After receivePack of a pack this large, its garbage (every object's buffers, the scan's
 * arrays) is collected at once and its memory handed back: otherwise an idle thread keeps it
 * until its collector next runs, and the next large request's peak (a clone) stacks on it.
 */
const COLLECT_AFTER_PACK_BYTES = 8 * 1024 * 1024;

/** Called once receivePack has returned (its locals are garbage then), with the pack it indexed. */
export function collectAfterReceive(pack: Uint8Array): void {
  if (pack.length >= COLLECT_AFTER_PACK_BYTES) {
    Bun.gc(true);
    Bun.shrink();
  }
}

/** Why the pack could not be unpacked: git's `unpack <reason>`. */
export class UnpackError extends GitError {}

/**
 * Indexes the pushed pack (completing a thin pack from the repository), fsck-checks every new
 * object and finds one that refers to a missing object, if any. A corrupt pack or object throws
 * UnpackError: nothing of the push is applied.
 */
export function receivePack(repository: ObjectDatabase, pack: Uint8Array | undefined, codec: Codec, limits?: Partial<PackLimits>): IncomingObjects {
  if (pack === undefined || pack.length === 0) return {};
  let indexed: IndexedPack;
  let loaded: LoadedPack;
  let referenced: OidTable;
  try {
    referenced = new OidTable(undefined, 0, expectedReferences(pack));
    const collect = collectionPacer(BYTES_PER_COLLECTION, OBJECTS_PER_COLLECTION);
    const onObject = (oid: Oid, type: ObjectType, data: Uint8Array) => {
      checkPushedObject(oid, type, data, referenced);
      collect(data.length);
    };
    indexed = indexPack(pack, { codec, limits, thinBases: repository, onObject });
    if (indexed.entries.length === 0) return {};
    loaded = preparePack(indexed.pack, indexed.entries, indexed.packChecksum, codec, repository.cache);
  } catch (error) {
    if (error instanceof GitError) throw new UnpackError(error.code, error.message);
    throw error;
  }
  return { pack: loaded, dangling: resolveReferences(loaded, referenced, repository) };
}

/** Room for the pack's own objects, which most references name; bounded by the pack's size, as the header may lie. */
function expectedReferences(pack: Uint8Array): number {
  return Math.min(readPackHeader(pack).objectCount, Math.floor(pack.length / MIN_BYTES_PER_REFERENCED_OBJECT));
}

/**
 * fsck-checks a pushed commit, tree or tag (blobs need no check here) while the pack is being
 * indexed, and collects the ids it refers to, in the same pass over a tree's entries.
 */
function checkPushedObject(oid: Oid, type: ObjectType, data: Uint8Array, referenced: OidTable): void {
  try {
    if (type === "tree") {
      fsckTree(data, (entry) => {
        if (entry.mode !== FileMode.Gitlink) referenced.addAt(data, entry.oidOffset);
      });
    } else {
      fsckObject(type, data);
      headerReferences(type, data, (target) => referenced.add(target));
    }
  } catch (error) {
    if (error instanceof CorruptDataError) throw new UnpackError(error.code, `object ${oid}: ${error.message}`);
    throw error;
  }
}

/**
 * Finds a referenced id that is neither in the pack nor in the repository, if any, and lets
 * the pack remember which of its own objects are referred to (see packReferences). The pack's
 * ids are looked up where they lie in its index: no id string and no second table is made per
 * object (those took ~24 MiB at the end of indexing 119k objects, the push's peak).
 */
function resolveReferences(pack: LoadedPack, referenced: OidTable, repository: ObjectReader): Oid | undefined {
  const flags = new Uint8Array(pack.file.objectCount);
  const inPack = new Uint8Array(referenced.size);
  for (let position = 0; position < flags.length; position++) {
    const number = referenced.findAt(pack.index, IDX_OIDS_START + position * OID_BYTES);
    if (number < 0) continue;
    flags[position] = 1;
    inPack[number] = 1;
  }
  rememberPackReferences(pack.file, flags);
  for (let number = 0; number < inPack.length; number++) {
    if (inPack[number]) continue;
    const oid = referenced.oidOf(number);
    if (!repository.hasObject(oid)) return oid;
  }
  return undefined;
}

/** What judging decided: a status per update (request order) and the updates to apply. */
export interface Judgement {
  statuses: RefUpdateStatus[];
  accepted: RefUpdate[];
  /** What checkUpdate said to the user. */
  messages: string[];
}

/**
 * Judges every update against `snapshot`: ref name, old id, presence of the new objects,
 * branch-to-commit, fast-forward and default-branch rules, name conflicts, then `checkUpdate`.
 * An atomic request gets all-or-nothing.
 */
export async function judgeUpdates(snapshot: Snapshot, incoming: IncomingObjects, request: PushRequest, codec: Codec): Promise<Judgement> {
  const objects = withPack(snapshot.objects, incoming.pack, codec);
  const counts = new Map<string, number>();
  for (const { ref } of request.updates) counts.set(ref, (counts.get(ref) ?? 0) + 1);
  const reasons: Array<string | undefined> = [];
  const messages: string[] = [];
  for (const update of request.updates) {
    if (counts.get(update.ref)! > 1) {
      reasons.push(Reason.duplicate);
      continue;
    }
    const reason = judgeUpdate(snapshot, incoming, objects, request, update);
    const verdict = reason === undefined ? await request.checkUpdate?.(update, objects, snapshot) : undefined;
    reasons.push(reason ?? verdict?.refusal);
    messages.push(...(verdict?.messages ?? []));
  }
  markNameConflicts(snapshot, request.updates, reasons);
  if (request.atomic && reasons.some((reason) => reason !== undefined)) {
    for (let i = 0; i < reasons.length; i++) reasons[i] ??= Reason.atomicFailure;
  }
  const statuses: RefUpdateStatus[] = request.updates.map(({ ref }, i) => {
    const reason = reasons[i];
    return reason === undefined ? { ref, ok: true } : { ref, ok: false, reason };
  });
  return { statuses, accepted: request.updates.filter((_, i) => reasons[i] === undefined), messages };
}

/** The repository's objects and a pack not stored yet. */
export function withPack(repository: ObjectDatabase, pack: LoadedPack | undefined, codec: Codec): ObjectDatabase {
  const objects = new ObjectDatabase(codec, { cacheBytes: 0 });
  for (const file of [...repository.packs].reverse()) objects.addPack(file);
  if (pack) objects.addPack(pack.file);
  return objects;
}

/** git's own rules for one update: the reason to refuse it, or undefined. */
function judgeUpdate(snapshot: Snapshot, incoming: IncomingObjects, objects: ObjectDatabase, request: PushRequest, update: RefUpdate): string | undefined {
  const { ref, oldOid, newOid } = update;
  if (!isUpdatableRefName(ref)) return Reason.funnyRefname;
  const current = snapshot.refs.get(ref) ?? ZERO_OID;
  if (oldOid !== current && !(newOid === ZERO_OID && current === ZERO_OID)) return Reason.fetchFirst;
  if (newOid === ZERO_OID) {
    if (ref === snapshot.head && current !== ZERO_OID && !request.allowForcePush) return Reason.deleteCurrent;
  } else {
    const pushed = incoming.pack?.file.has(newOid) && !snapshot.objects.hasObject(newOid);
    if (!objects.hasObject(newOid) || (pushed && incoming.dangling !== undefined)) return Reason.missingObjects;
    if (ref.startsWith("refs/heads/")) {
      if (objects.readType(newOid) !== "commit") return Reason.notCommit;
      if (current !== ZERO_OID && !request.allowForcePush && !isAncestor(objects, current, newOid)) return Reason.nonFastForward;
    }
  }
  return undefined;
}

/**
 * git cannot hold both `refs/heads/a` and `refs/heads/a/b` (one would be a file, the other a
 * directory; clients fail to fetch them), so creating either beside the other is refused.
 */
function markNameConflicts(snapshot: Snapshot, updates: readonly RefUpdate[], reasons: Array<string | undefined>): void {
  const names = new Set(snapshot.refs.keys());
  updates.forEach(({ ref, newOid }, i) => {
    if (reasons[i] !== undefined) return;
    if (newOid === ZERO_OID) names.delete(ref);
    else names.add(ref);
  });
  const directories = new Set<string>();
  for (const name of names) for (const parent of parentNames(name)) directories.add(parent);
  updates.forEach(({ ref, newOid }, i) => {
    if (reasons[i] !== undefined || newOid === ZERO_OID || snapshot.refs.has(ref)) return;
    const conflict = directories.has(ref) ? `${ref}/…` : parentNames(ref).find((parent) => names.has(parent));
    if (conflict !== undefined) reasons[i] = `cannot create ${ref}: ${conflict} exists`;
  });
}

function parentNames(ref: string): string[] {
  const parents: string[] = [];
  for (let slash = ref.indexOf("/"); slash >= 0; slash = ref.indexOf("/", slash + 1)) parents.push(ref.slice(0, slash));
  return parents;
}
