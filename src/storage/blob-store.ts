import { GitError } from "../git/errors.ts";

/**
 * A flat namespace of immutable-or-compare-and-swapped blobs: the storage under every repository
 * (DESIGN.md, "Storage layout"). Packs are written with `createOnly`; the manifest, the commit
 * point, with `compareAndSwap`.
 *
 * Keys are relative paths of `/`-separated segments, e.g. `org/agent/manifest.json`; see checkKey.
 *
 * Generations are decimal integers that increase with every write of a key (GCS object
 * generations have the same property), so they can both detect a concurrent change and order
 * two versions of one key. Returned data must be treated as read-only.
 */
export interface BlobStore {
  get(key: string): Promise<StoredBlob | undefined>;
  /** The current generation, from metadata only (a stat): the cheap freshness check. */
  generation(key: string): Promise<string | undefined>;
  /** Writes `data` unless the key exists; false when it does (its content is left as it was). */
  createOnly(key: string, data: Uint8Array): Promise<boolean>;
  /**
   * Replaces the blob if its generation is still `expected` (`null`: the key must not exist).
   * Returns the new generation, or undefined when the current generation differs.
   */
  compareAndSwap(key: string, data: Uint8Array, expected: string | null): Promise<string | undefined>;
  /** Removes the key; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Every key that starts with `prefix` (a plain string prefix, as in GCS), sorted. */
  list(prefix: string): Promise<ListedBlob[]>;
}

export interface StoredBlob {
  data: Uint8Array;
  generation: string;
}

export interface ListedBlob {
  key: string;
  updated: Date;
}

/** Storage failures and misuse: codes `storage.key`, `storage.url`, `storage.lock`, `storage.clock`. */
export class StorageError extends GitError {}

const MAX_KEY_LENGTH = 1024;
// Segments starting with "." are refused: that rules out "." and ".." and reserves hidden names
// (the file store keeps its temporary files and locks under ".stategit/").
const SEGMENT = /^[^.\x00-\x1f\x7f\\/][^\x00-\x1f\x7f\\/]*$/;

/** Returns `key` when it is a valid relative key; throws StorageError("storage.key") otherwise. */
export function checkKey(key: string): string {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !key.split("/").every((segment) => SEGMENT.test(segment))) {
    throw new StorageError("storage.key", `invalid storage key ${JSON.stringify(key)}`);
  }
  return key;
}

/** A list prefix is "" or the beginning of a valid key ("org/", "org/agent/packs/pack-"). */
export function checkPrefix(prefix: string): string {
  if (prefix !== "") checkKey(`${prefix}x`);
  return prefix;
}

/**
 * Issues generations: the write time in microseconds, but always above both the previous
 * generation of the key and anything this clock issued before, so a key's generations strictly
 * increase even when writes share a microsecond or the clock steps back.
 */
export class GenerationClock {
  private lastIssued = 0;

  next(previous?: string): string {
    const now = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    const floor = previous === undefined ? 0 : Number(previous) + 1;
    this.lastIssued = Math.max(now, floor, this.lastIssued + 1);
    return String(this.lastIssued);
  }
}

/** Listings are sorted by key (code-unit order, as GCS lists). */
export function sortByKey(blobs: ListedBlob[]): ListedBlob[] {
  return blobs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The wall-clock time a generation issued by GenerationClock stands for. */
export function generationTime(generation: string): Date {
  return new Date(Number(generation) / 1000);
}
