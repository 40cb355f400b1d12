/**
 * Inflated deltas kept from the scan so delta resolution need not inflate them again, up to a
 * byte budget (beyond it, resolution re-inflates from the pack as git's index-pack always does).
 */
export class InflatedDeltaCache {
  private readonly deltas: (Uint8Array | undefined)[];
  private stored = 0;

  constructor(
    objectCount: number,
    private readonly budgetBytes: number,
  ) {
    this.deltas = new Array<Uint8Array | undefined>(objectCount);
  }

  keep(index: number, delta: Uint8Array): void {
    if (this.stored + delta.length > this.budgetBytes) return;
    this.stored += delta.length;
    this.deltas[index] = delta;
  }

  /** The kept delta of entry `index`, forgotten by the cache. */
  take(index: number): Uint8Array | undefined {
    const delta = this.deltas[index];
    this.deltas[index] = undefined;
    return delta;
  }
}
