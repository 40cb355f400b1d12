/** Chunk size of the cache's storage: large enough that chunk tails waste little. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * Inflated deltas kept from the scan so delta resolution need not inflate them again, up to a
 * byte budget (beyond it, resolution re-inflates from the pack as git's index-pack always does).
 * Deltas are copied into shared chunks: an inflate result may sit in a much larger buffer.
 */
export class InflatedDeltaCache {
  private readonly deltas: (Uint8Array | undefined)[];
  private chunk = new Uint8Array(0);
  private chunkUsed = 0;
  private stored = 0;

  constructor(
    objectCount: number,
    private readonly budgetBytes: number,
  ) {
    this.deltas = new Array<Uint8Array | undefined>(objectCount);
  }

  keep(index: number, delta: Uint8Array): void {
    if (this.stored + delta.length > this.budgetBytes) return;
    if (this.chunkUsed + delta.length > this.chunk.length) {
      this.chunk = new Uint8Array(Math.max(CHUNK_BYTES, delta.length));
      this.chunkUsed = 0;
    }
    const copy = this.chunk.subarray(this.chunkUsed, this.chunkUsed + delta.length);
    copy.set(delta);
    this.chunkUsed += delta.length;
    this.stored += delta.length;
    this.deltas[index] = copy;
  }

  /** The kept delta of entry `index`, forgotten by the cache. */
  take(index: number): Uint8Array | undefined {
    const delta = this.deltas[index];
    this.deltas[index] = undefined;
    return delta;
  }
}
