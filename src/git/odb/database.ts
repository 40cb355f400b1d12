import type { Codec } from "../codec/codec.ts";
import { hashObject, type GitObject, type ObjectReader, type ObjectType } from "../object/object.ts";
import type { Oid } from "../oid.ts";
import type { ObjectInfo, PackFile } from "../pack/packfile.ts";
import type { StoredEntry } from "../pack/types.ts";
import { ObjectCache } from "./cache.ts";

/** git's core.deltaBaseCacheLimit is 96 MiB for one process; a server holds many repositories. */
export const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024;

export interface ObjectDatabaseOptions {
  /** Budget of the cache of inflated objects shared by the packs (0 disables it). */
  cacheBytes?: number;
}

/**
 * The objects of one repository: its packs, newest first, plus objects held in memory until
 * they are packed (commits written through the API). Give every PackFile added here `cache`.
 */
export class ObjectDatabase implements ObjectReader {
  readonly cache: ObjectCache;
  private packList: readonly PackFile[] = [];
  private readonly memory = new Map<Oid, GitObject>();

  constructor(
    private readonly codec: Codec,
    options: ObjectDatabaseOptions = {},
  ) {
    this.cache = new ObjectCache(options.cacheBytes ?? DEFAULT_CACHE_BYTES);
  }

  /** The packs, newest first. The array is replaced, never changed, when packs come and go. */
  get packs(): readonly PackFile[] {
    return this.packList;
  }

  /** How many objects are held in memory, not in a pack. */
  get unpackedCount(): number {
    return this.memory.size;
  }

  /** Adds a pack as the newest, the first one searched. Adding a pack twice does nothing. */
  addPack(pack: PackFile): void {
    if (this.packList.includes(pack)) return;
    this.packList = [pack, ...this.packList];
  }

  /** Removes a pack (after compaction) and drops its cached objects. */
  removePack(pack: PackFile): boolean {
    if (!this.packList.includes(pack)) return false;
    this.packList = this.packList.filter((candidate) => candidate !== pack);
    this.cache.evict(pack);
    return true;
  }

  /** Stores an object in memory (its bytes are kept, not copied) and returns its id. */
  addObject(type: ObjectType, data: Uint8Array): Oid {
    const oid = hashObject(this.codec, type, data);
    if (!this.hasObject(oid)) this.memory.set(oid, { type, data });
    return oid;
  }

  hasObject(oid: Oid): boolean {
    return this.memory.has(oid) || this.packList.some((pack) => pack.has(oid));
  }

  readObject(oid: Oid): GitObject | undefined {
    return this.memory.get(oid) ?? this.fromPacks((pack) => pack.read(oid));
  }

  /** Type and size, without applying deltas where the pack allows (see PackFile.info). */
  readInfo(oid: Oid): ObjectInfo | undefined {
    const object = this.memory.get(oid);
    if (object) return { type: object.type, size: object.data.length };
    return this.fromPacks((pack) => pack.info(oid));
  }

  /** The type alone: follows delta chains through entry headers, inflating nothing. */
  readType(oid: Oid): ObjectType | undefined {
    return this.memory.get(oid)?.type ?? this.fromPacks((pack) => pack.type(oid));
  }

  /** The stored entry of `oid` in the newest pack holding it; undefined for in-memory objects. */
  stored(oid: Oid): StoredEntry | undefined {
    return this.fromPacks((pack) => pack.stored(oid));
  }

  private fromPacks<T>(lookup: (pack: PackFile) => T | undefined): T | undefined {
    for (const pack of this.packList) {
      const found = lookup(pack);
      if (found !== undefined) return found;
    }
    return undefined;
  }
}
