import { StorageError, type BlobStore } from "./blob-store.ts";
import { FileBlobStore } from "./file.ts";
import { MemoryBlobStore } from "./memory.ts";

/** Where a store lives, parsed from its URL. A new backend adds a member here and a case in openStore. */
export type StoreLocation = { kind: "file"; path: string } | { kind: "memory" };

export const STORE_URL_FORMS = "file:PATH or memory:";

/** Parses `--storage`: `file:PATH` (relative to the working directory) or `memory:`. */
export function parseStoreUrl(url: string): StoreLocation {
  if (url.startsWith("file:") && url.length > "file:".length) return { kind: "file", path: url.slice("file:".length) };
  if (url === "memory:") return { kind: "memory" };
  throw new StorageError("storage.url", `unsupported storage URL ${JSON.stringify(url)} (expected ${STORE_URL_FORMS})`);
}

export function openStore(url: string): BlobStore {
  const location = parseStoreUrl(url);
  switch (location.kind) {
    case "file":
      return new FileBlobStore(location.path);
    case "memory":
      return new MemoryBlobStore();
  }
}
