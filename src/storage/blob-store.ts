/**
 * A flat namespace of immutable blobs: the pack and index files under every repository
 * (DESIGN.md, "Where things live"). Blobs are only ever created (never replaced) and deleted;
 * the commit point of a write is a database row, not a blob, so no store needs a
 * compare-and-swap, and GCS's one-write-per-second-per-name limit never applies.
 *
 * Keys are relative paths of `/`-separated segments, e.g. `org/agent/packs/pack-{sha}.pack`; see
 * checkKey. Returned data must be treated as read-only.
 */
export interface BlobStore {
  /** The blob's bytes, or undefined when the key does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * Writes `data` unless the key exists; false when it does: its content is left as it was, and
   * its update time becomes now ("freshened", as git freshens an object it is asked to write
   * again), so that a blob written anew is not collected as old garbage by its first write's age.
   */
  createOnly(key: string, data: Uint8Array): Promise<boolean>;
  /** Removes the key; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Every key that starts with `prefix` (a plain string prefix, as in GCS), sorted. */
  list(prefix: string): Promise<ListedBlob[]>;
  /** Resolves when the store answers (the readiness check); throws StorageError otherwise. */
  ping(): Promise<void>;
}

export interface ListedBlob {
  key: string;
  /** When the blob was written: compaction deletes unnamed blobs only past a grace period. */
  updated: Date;
  size: number;
}

/**
 * Storage failures and misuse, by code: `storage.key` (not a valid key), `storage.url` (not a
 * storage URL), `storage.unavailable` (the store did not answer in time, after retries),
 * `storage.denied` (credentials refused).
 */
export class StorageError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "StorageError";
  }
}

const MAX_KEY_LENGTH = 1024;
// Segments starting with "." are refused: that rules out "." and ".." and reserves hidden names
// (the file store keeps its temporary files under ".stategit/").
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

/** Listings are sorted by key (code-unit order, as GCS lists). */
export function sortByKey(blobs: ListedBlob[]): ListedBlob[] {
  return blobs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
