import { CorruptDataError } from "../../errors.ts";
import { DeltaIndex } from "../../delta/create.ts";
import { typeToKind } from "../format.ts";
import type { CountedObjects } from "./count.ts";
import type { PackEntry } from "./entry.ts";
import type { ResolvedPackOptions } from "./options.ts";
import { isDeltaKind, objectSize, readRequiredObject, type PackSource } from "./source.ts";

/** Objects smaller than this are never delta candidates: a delta could hardly be smaller. */
const MIN_DELTA_CANDIDATE_SIZE = 50;
/** A delta must save at least an object id over half the target (git's `trg_size/2 - rawsz`). */
const OID_RAW_BYTES = 20;

/** One position of the sliding window: an object, its data while in the window, its index once used as a base. */
interface WindowSlot {
  entry: PackEntry | undefined;
  data: Uint8Array | undefined;
  index: DeltaIndex | undefined;
  /** The entry's delta depth as decided by this search. */
  depth: number;
}

/**
 * The entry step's delta search (git's find_deltas): objects sorted so that likely pairs are
 * neighbours, each tried against the `window - 1` objects before it; a delta is kept when it
 * is smaller than the best so far and keeps every chain within `depth`. Yields once per object
 * so the caller can give the event loop a turn; deltas found are deflated right away.
 */
export function* findDeltas(counted: CountedObjects, source: PackSource, options: ResolvedPackOptions): Generator<undefined, number> {
  if (options.window <= 1 || options.depth === 0) return 0;
  const candidates = deltaCandidates(counted, source, options);
  const targets = candidates.reduce((count, entry) => count + (entry.thinBase ? 0 : 1), 0);
  const { window, depth, codec } = options;
  const slots: WindowSlot[] = Array.from({ length: window }, () => ({ entry: undefined, data: undefined, index: undefined, depth: 0 }));
  const loadData = (slot: WindowSlot): Uint8Array | undefined => {
    if (slot.data) return slot.data;
    const entry = slot.entry!;
    const object = entry.thinBase ? source.readObject(entry.oid) : readRequiredObject(source, entry.oid, entry.type);
    // A thin base that turns out unreadable is simply not used, as git ignores a bad preferred base.
    if (!object || object.type !== entry.type) return undefined;
    if (object.data.length !== entry.size) {
      throw new CorruptDataError("pack.object-size", `object ${entry.oid} has ${object.data.length} bytes, expected ${entry.size}`);
    }
    slot.data = object.data;
    return slot.data;
  };

  /** The best delta found for the current object, not yet deflated. */
  let bestDelta: Uint8Array | undefined;
  /** git's try_delta: -1 stops the scan (type boundary), 1 when `target` got a better delta. */
  const tryDelta = (target: WindowSlot, base: WindowSlot, maxDepth: number): number => {
    const targetEntry = target.entry!;
    const baseEntry = base.entry!;
    if (targetEntry.type !== baseEntry.type) return -1;
    if (options.reuseDeltas && storedWholeInSamePack(targetEntry, baseEntry)) return 0;
    if (base.depth >= maxDepth) return 0;
    // Size heuristics: the delta must beat the best one so far, with less room the deeper it
    // would sit, so that shallow deltas are preferred over slightly smaller deep ones.
    const targetSize = targetEntry.size;
    const [sizeSoFar, depthSoFar] = targetEntry.base
      ? [targetEntry.deltaSize, target.depth]
      : [Math.floor(targetSize / 2) - OID_RAW_BYTES, 1];
    const maxSize = Math.floor((sizeSoFar * (maxDepth - base.depth)) / (maxDepth - depthSoFar + 1));
    if (maxSize <= 0) return 0;
    const baseSize = baseEntry.size;
    if (baseSize < targetSize && targetSize - baseSize >= maxSize) return 0;
    if (targetSize < Math.floor(baseSize / 32)) return 0;
    const targetData = loadData(target);
    const baseData = loadData(base);
    if (!targetData || !baseData) return 0;
    base.index ??= new DeltaIndex(baseData);
    const delta = base.index.createDelta(targetData, maxSize);
    if (!delta) return 0;
    // Of two deltas of the same size, keep the shallower.
    if (targetEntry.base && delta.length === targetEntry.deltaSize && base.depth + 1 >= target.depth) return 0;
    targetEntry.setDelta(baseEntry, delta.length, false);
    bestDelta = delta;
    target.depth = base.depth + 1;
    return 1;
  };

  let position = 0;
  let processed = 0;
  for (const entry of candidates) {
    const slot = slots[position];
    slot.entry = entry;
    slot.data = undefined;
    slot.index = undefined;
    slot.depth = 0;
    // Thin bases only serve as bases; an object with reused deltas on it leaves them room.
    const maxDepth = depth - entry.reusedDependentDepth;
    if (!entry.thinBase && maxDepth > 0) {
      let bestBase = -1;
      bestDelta = undefined;
      for (let distance = window - 1; distance > 0; distance--) {
        const other = (position + distance) % window;
        if (!slots[other].entry) break;
        const result = tryDelta(slot, slots[other], maxDepth);
        if (result < 0) break;
        if (result > 0) bestBase = other;
      }
      if (bestDelta) {
        entry.compressedDelta = codec.deflate(bestDelta, options.compressionLevel);
        entry.depth = slot.depth;
      }
      options.onProgress("compressing", ++processed, targets);
      yield undefined;
      if (bestBase >= 0) {
        // At full depth the object can be no one's base: let the next object take its slot.
        if (maxDepth <= slot.depth) continue;
        promoteBase(slots, bestBase, position);
      }
    }
    position = (position + 1) % window;
  }
  return processed;
}

/**
 * When deltas are reused, a target its pack stored whole next to `base` was already found not
 * worth a delta against it by whoever wrote that pack: git skips the pair. A base the receiver
 * has is always worth trying, since it is never sent.
 */
function storedWholeInSamePack(target: PackEntry, base: PackEntry): boolean {
  const stored = target.stored;
  return !base.thinBase && stored?.pack !== undefined && !isDeltaKind(stored.kind) && stored.pack === base.stored?.pack;
}

/**
 * Moves the slot that gave the best delta to just behind the current object, shifting those
 * in between back: it stays longest in the window and is the first base the next object tries.
 */
function promoteBase(slots: WindowSlot[], best: number, current: number): void {
  const window = slots.length;
  const promoted = slots[best];
  let to = best;
  for (let distance = (window + current - best) % window; distance > 0; distance--) {
    const from = (to + 1) % window;
    slots[to] = slots[from];
    to = from;
  }
  slots[to] = promoted;
}

/**
 * The objects worth a delta search (git's prepare_pack and type_size_sort): whole objects of at
 * least 50 bytes and below the big-file threshold, plus thin bases that share a type and path
 * hash with one of them; sorted by type, path hash, thin bases first, size descending, newest first.
 */
function deltaCandidates(counted: CountedObjects, source: PackSource, options: ResolvedPackOptions): PackEntry[] {
  const sized = (entry: PackEntry): boolean => {
    if (entry.size < 0) entry.size = objectSize(source, entry.oid, entry.type, options.codec);
    return entry.size >= MIN_DELTA_CANDIDATE_SIZE && entry.size <= options.bigFileThreshold;
  };
  const candidates = counted.entries.filter((entry) => !entry.base && sized(entry));
  const groupKey = (entry: PackEntry) => `${entry.type} ${entry.nameHash}`;
  const groups = new Set(candidates.map(groupKey));
  for (const base of counted.thinBases) {
    if (groups.has(groupKey(base)) && source.hasObject(base.oid) && sized(base)) candidates.push(base);
  }
  return candidates.sort(
    (a, b) =>
      typeToKind(b.type) - typeToKind(a.type) ||
      b.nameHash - a.nameHash ||
      Number(b.thinBase) - Number(a.thinBase) ||
      b.size - a.size ||
      a.order - b.order,
  );
}
