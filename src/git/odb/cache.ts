import type { GitObject } from "../object/object.ts";

/** What an entry costs beyond its bytes (the entry, its map slot, the object wrapper). */
const ENTRY_OVERHEAD_BYTES = 96;

interface CacheEntry {
  owner: object;
  offset: number;
  object: GitObject;
  cost: number;
  newer: CacheEntry | undefined;
  older: CacheEntry | undefined;
}

/**
 * A least-recently-used cache of inflated objects, keyed by (pack, offset) and bounded in bytes.
 * Delta bases gain most: reading the objects of a pack resolves the same bases again and again
 * (git's delta_base_cache). Cached objects are shared: callers must not modify their data.
 */
export class ObjectCache {
  private readonly byOwner = new Map<object, Map<number, CacheEntry>>();
  private newest: CacheEntry | undefined;
  private oldest: CacheEntry | undefined;
  private bytes = 0;
  private entries = 0;

  constructor(readonly maxBytes: number) {}

  /** Bytes currently held, counting a fixed overhead per entry. */
  get usedBytes(): number {
    return this.bytes;
  }

  get count(): number {
    return this.entries;
  }

  get(owner: object, offset: number): GitObject | undefined {
    const entry = this.byOwner.get(owner)?.get(offset);
    if (!entry) return undefined;
    if (entry !== this.newest) {
      this.unlink(entry);
      this.linkNewest(entry);
    }
    return entry.object;
  }

  /** Caches `object`; one larger than the whole budget is not kept. */
  set(owner: object, offset: number, object: GitObject): void {
    const cost = object.data.length + ENTRY_OVERHEAD_BYTES;
    if (cost > this.maxBytes) return;
    const existing = this.byOwner.get(owner)?.get(offset);
    if (existing) this.remove(existing);
    while (this.oldest && this.bytes + cost > this.maxBytes) this.remove(this.oldest);
    let slots = this.byOwner.get(owner);
    if (!slots) {
      slots = new Map();
      this.byOwner.set(owner, slots);
    }
    const entry: CacheEntry = { owner, offset, object, cost, newer: undefined, older: undefined };
    slots.set(offset, entry);
    this.linkNewest(entry);
    this.bytes += cost;
    this.entries++;
  }

  /** Drops every object cached for `owner` (a pack that is no longer used). */
  evict(owner: object): void {
    const slots = this.byOwner.get(owner);
    if (!slots) return;
    for (const entry of [...slots.values()]) this.remove(entry);
  }

  private remove(entry: CacheEntry): void {
    this.unlink(entry);
    const slots = this.byOwner.get(entry.owner);
    if (slots) {
      slots.delete(entry.offset);
      if (slots.size === 0) this.byOwner.delete(entry.owner);
    }
    this.bytes -= entry.cost;
    this.entries--;
  }

  private unlink(entry: CacheEntry): void {
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    entry.newer = undefined;
    entry.older = undefined;
  }

  private linkNewest(entry: CacheEntry): void {
    entry.older = this.newest;
    entry.newer = undefined;
    if (this.newest) this.newest.newer = entry;
    this.newest = entry;
    if (!this.oldest) this.oldest = entry;
  }
}
