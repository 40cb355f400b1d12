import {
  checkKey,
  checkPrefix,
  GenerationClock,
  generationTime,
  sortByKey,
  type BlobStore,
  type ListedBlob,
  type StoredBlob,
} from "./blob-store.ts";

/** A process-local store (`memory:`), for tests and throwaway servers. */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, StoredBlob>();
  private readonly clock = new GenerationClock();

  async get(key: string): Promise<StoredBlob | undefined> {
    return this.blobs.get(checkKey(key));
  }

  async generation(key: string): Promise<string | undefined> {
    return this.blobs.get(checkKey(key))?.generation;
  }

  async createOnly(key: string, data: Uint8Array): Promise<boolean> {
    if (this.blobs.has(checkKey(key))) return false;
    this.put(key, data);
    return true;
  }

  async compareAndSwap(key: string, data: Uint8Array, expected: string | null): Promise<string | undefined> {
    const current = this.blobs.get(checkKey(key))?.generation ?? null;
    if (current !== expected) return undefined;
    return this.put(key, data, current ?? undefined);
  }

  async delete(key: string): Promise<void> {
    this.blobs.delete(checkKey(key));
  }

  async list(prefix: string): Promise<ListedBlob[]> {
    checkPrefix(prefix);
    return sortByKey(
      [...this.blobs]
        .filter(([key]) => key.startsWith(prefix))
        .map(([key, blob]) => ({ key, updated: generationTime(blob.generation) })),
    );
  }

  /** Stores a private copy, so the caller may reuse its buffer. */
  private put(key: string, data: Uint8Array, previous?: string): string {
    const generation = this.clock.next(previous);
    this.blobs.set(key, { data: data.slice(), generation });
    return generation;
  }
}
