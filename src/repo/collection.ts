/**
 * A pacer for the collector on threads that make many short-lived buffers and allocate little
 * else (indexing a pushed pack, copying a clone's chunks for posting): the collector runs in
 * proportion to the heap, so such garbage piles up into the peak before it runs. The pacer asks
 * for a minor collection once `bytesPerCollection` bytes, or `objectsPerCollection` calls, have
 * gone by since the last one.
 */
export function collectionPacer(bytesPerCollection: number, objectsPerCollection = Number.POSITIVE_INFINITY): (bytes: number) => void {
  let bytes = 0;
  let objects = 0;
  return (added) => {
    bytes += added;
    if (++objects < objectsPerCollection && bytes < bytesPerCollection) return;
    bytes = objects = 0;
    Bun.gc(false);
  };
}
