import { checkKey, checkPrefix, sortByKey, type BlobStore, type ListedBlob } from "./blob-store.ts";

interface MemoryBlob {
  data: Uint8Array;
  updated: Date;
}

/** A process-local store (`memory:`), for tests and throwaway servers. */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, MemoryBlob>();

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.blobs.get(checkKey(key))?.data;
  }

  async createOnly(key: string, data: Uint8Array): Promise<boolean> {
    const existing = this.blobs.get(checkKey(key));
    if (existing) {
      existing.updated = new Date();
      return false;
    }
    // A private copy, so the caller may reuse its buffer.
    this.blobs.set(key, { data: data.slice(), updated: new Date() });
    return true;
  }

  async delete(key: string): Promise<void> {
    this.blobs.delete(checkKey(key));
  }

  async list(prefix: string): Promise<ListedBlob[]> {
    checkPrefix(prefix);
    return sortByKey(
      [...this.blobs]
        .filter(([key]) => key.startsWith(prefix))
        .map(([key, blob]) => ({ key, updated: blob.updated, size: blob.data.length })),
    );
  }

  async ping(): Promise<void> {}
}
