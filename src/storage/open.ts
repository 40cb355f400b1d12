import { StorageError, checkKey, type BlobStore } from "./blob-store.ts";
import { FileBlobStore } from "./file.ts";
import { checkBucketName, GcsBlobStore } from "./gcs.ts";
import { MemoryBlobStore } from "./memory.ts";

/** Where a store lives, parsed from its URL. A new backend adds a member here and a case in openStore. */
export type StoreLocation = { kind: "file"; path: string } | { kind: "gcs"; bucket: string; prefix: string } | { kind: "memory" };

export const STORE_URL_FORMS = "file:PATH, gs://BUCKET[/PREFIX] or memory:";

/**
 * Parses `--storage`: `file:PATH` (relative to the working directory), `gs://BUCKET[/PREFIX]`
 * (a trailing `/` is ignored; the prefix follows the rules of keys) or `memory:`.
 */
export function parseStoreUrl(url: string): StoreLocation {
  if (url.startsWith("file:") && url.length > "file:".length) return { kind: "file", path: url.slice("file:".length) };
  if (url === "memory:") return { kind: "memory" };
  if (url.startsWith("gs://")) return parseGcsUrl(url);
  throw new StorageError("storage.url", `unsupported storage URL ${JSON.stringify(url)} (expected ${STORE_URL_FORMS})`);
}

export function openStore(url: string): BlobStore {
  const location = parseStoreUrl(url);
  switch (location.kind) {
    case "file":
      return new FileBlobStore(location.path);
    case "gcs":
      return new GcsBlobStore(location);
    case "memory":
      return new MemoryBlobStore();
  }
}

function parseGcsUrl(url: string): StoreLocation {
  const rest = url.slice("gs://".length);
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? "" : rest.slice(slash + 1).replace(/\/$/, "");
  const problem = checkBucketName(bucket);
  if (problem) throw new StorageError("storage.url", `bad bucket name ${JSON.stringify(bucket)} in ${JSON.stringify(url)}: ${problem}`);
  if (prefix !== "") {
    try {
      checkKey(prefix);
    } catch {
      throw new StorageError("storage.url", `bad prefix ${JSON.stringify(prefix)} in ${JSON.stringify(url)}: it must be a relative path of non-empty segments`);
    }
  }
  return { kind: "gcs", bucket, prefix };
}
