import { OID_BYTES } from "../../oid.ts";

const BUCKETS = 65536;

function compareDigests(digests: Uint8Array, a: number, b: number): number {
  const aStart = a * OID_BYTES;
  const bStart = b * OID_BYTES;
  for (let i = 0; i < OID_BYTES; i++) {
    const difference = digests[aStart + i] - digests[bStart + i];
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * The order of `count` raw ids (20 bytes each in `digests`) sorted ascending, ties by index. A
 * counting pass on the first two bytes spreads hash-distributed ids into buckets of a few
 * entries each, which insertion sort finishes: linear time, no string comparisons.
 */
export function sortByOid(digests: Uint8Array, count: number): Uint32Array {
  const bucketStarts = new Uint32Array(BUCKETS + 1);
  for (let i = 0; i < count; i++) bucketStarts[((digests[i * OID_BYTES] << 8) | digests[i * OID_BYTES + 1]) + 1]++;
  for (let bucket = 0; bucket < BUCKETS; bucket++) bucketStarts[bucket + 1] += bucketStarts[bucket];
  const order = new Uint32Array(count);
  const fill = bucketStarts.slice(0, BUCKETS);
  for (let i = 0; i < count; i++) order[fill[(digests[i * OID_BYTES] << 8) | digests[i * OID_BYTES + 1]]++] = i;
  for (let bucket = 0; bucket < BUCKETS; bucket++) {
    const start = bucketStarts[bucket];
    const end = bucketStarts[bucket + 1];
    for (let i = start + 1; i < end; i++) {
      const entry = order[i];
      let j = i - 1;
      while (j >= start && compareDigests(digests, order[j], entry) > 0) {
        order[j + 1] = order[j];
        j--;
      }
      order[j + 1] = entry;
    }
  }
  return order;
}

/** Whether two ids in `digests` are the same. */
export function sameOid(digests: Uint8Array, a: number, b: number): boolean {
  return compareDigests(digests, a, b) === 0;
}
