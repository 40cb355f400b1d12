import { CorruptDataError } from "../../errors.ts";
import type { Oid } from "../../oid.ts";
import { typeToKind } from "../format.ts";
import type { PackObjectSpec } from "../types.ts";
import { PackEntry, pathNameHash } from "./entry.ts";
import type { ResolvedPackOptions } from "./options.ts";
import { isDeltaKind, objectType, type PackSource } from "./source.ts";

/** What the counting step found: the objects to write and the bases the receiver has. */
export interface CountedObjects {
  /** Objects to write, deduplicated, in input (recency) order. */
  entries: PackEntry[];
  /** Thin packs: objects the receiver has, usable as delta bases. Empty otherwise. */
  thinBases: PackEntry[];
}

/**
 * The counting step (git's get_object_details): one entry per distinct object, its stored
 * representation, and the stored deltas worth reusing — those whose base is written too or,
 * in a thin pack, known to the receiver.
 */
export function countObjects(specs: ReadonlyArray<PackObjectSpec>, source: PackSource, options: ResolvedPackOptions): CountedObjects {
  const byOid = new Map<Oid, PackEntry>();
  const entries: PackEntry[] = [];
  for (const spec of specs) {
    if (byOid.has(spec.oid)) continue;
    const entry = new PackEntry(spec.oid, spec.type, entries.length, pathNameHash(spec.path), false);
    byOid.set(spec.oid, entry);
    entries.push(entry);
  }
  const thinBases = options.thin ? addThinBases(options.thinBases, source, byOid) : [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    entry.stored = source.stored?.(entry.oid);
    const stored = entry.stored;
    if (stored && !isDeltaKind(stored.kind) && stored.kind !== typeToKind(entry.type)) {
      throw new CorruptDataError("pack.object-type", `object ${entry.oid} is stored with pack type ${stored.kind}, expected a ${entry.type}`);
    }
    if (options.reuseDeltas && stored && isDeltaKind(stored.kind) && stored.baseOid !== undefined) {
      const base = byOid.get(stored.baseOid);
      if (base) entry.setDelta(base, stored.size, true);
    }
    options.onProgress("counting", i + 1, entries.length);
  }
  limitReusedChains(entries, options.depth);
  return { entries, thinBases };
}

function addThinBases(bases: ResolvedPackOptions["thinBases"], source: PackSource, byOid: Map<Oid, PackEntry>): PackEntry[] {
  const added: PackEntry[] = [];
  for (const base of bases) {
    const oid = typeof base === "string" ? base : base.oid;
    if (byOid.has(oid)) continue;
    // A base the source cannot read is skipped, as git ignores a missing preferred base.
    const type = typeof base === "string" ? objectType(source, oid) : base.type;
    if (!type) continue;
    const entry = new PackEntry(oid, type, byOid.size, pathNameHash(typeof base === "string" ? undefined : base.path), true);
    byOid.set(oid, entry);
    added.push(entry);
  }
  return added;
}

const enum Visit {
  New,
  Active,
  Done,
}

/**
 * Stored deltas may chain deeper than `depth`, and deltas reused from different packs may form
 * a cycle (A against B in one pack, B against A in another). Like git's break_delta_chains:
 * follow each chain once, cut the link that closes a cycle, cut chains into pieces of at most
 * `depth` deltas, and record each entry's final depth. Then note, on every object that starts
 * a reused chain, how deep that chain goes: the delta search must leave room for it.
 */
function limitReusedChains(entries: PackEntry[], depth: number): void {
  const visit = new Map<PackEntry, Visit>();
  const state = (entry: PackEntry) => visit.get(entry) ?? Visit.New;
  for (const entry of entries) {
    let totalDepth = 0;
    for (let current: PackEntry | undefined = entry; current; current = current.base, totalDepth++) {
      if (state(current) === Visit.Done) {
        totalDepth += current.depth;
        break;
      }
      if (!current.base) {
        visit.set(current, Visit.Done);
        break;
      }
      visit.set(current, Visit.Active);
      if (state(current.base) === Visit.Active) {
        current.dropDelta();
        visit.set(current, Visit.Done);
        break;
      }
    }
    for (let current: PackEntry | undefined = entry; current && state(current) === Visit.Active; ) {
      const next: PackEntry | undefined = current.base;
      current.depth = totalDepth-- % (depth + 1);
      if (current.depth === 0) current.dropDelta();
      visit.set(current, Visit.Done);
      current = next;
    }
  }
  for (const entry of entries) {
    if (!entry.reusedDelta) continue;
    let root = entry;
    while (root.reusedDelta && root.base) root = root.base;
    root.reusedDependentDepth = Math.max(root.reusedDependentDepth, entry.depth);
  }
}
