/**
 * Request bodies of git clients: plain, gzip-compressed (`Content-Encoding: gzip`, which git sends
 * above 1 KiB) or chunked (above http.postBuffer). Every byte counted against a limit, after
 * decompression, so neither a huge upload nor a gzip bomb can exhaust memory.
 */

/**
 * Plain bodies up to this size are read whole by the runtime; larger ones are streamed into
 * shared memory like chunked ones. A pushed pack is kept in the bytes read here (repo/packs.ts
 * keeps packs in SharedArrayBuffers for the worker threads), so reading it there costs one copy
 * of the pack instead of three (the chunks, their concatenation, the shared copy).
 */
const SMALL_BODY_BYTES = 1024 * 1024;

/**
 * After a streamed body this large, a full collection: the runtime's chunks are garbage once
 * copied, and for a push this thread then mostly waits for the worker that indexes the pack,
 * allocating too little for its collector to run, so they stayed through the push's peak and
 * after it (after a 39 MiB push, the next push's peak measured ~5 MiB higher without this and
 * the first clone's 10-20 MiB). Once per large body; the heap it walks is small beside it.
 */
const COLLECT_AFTER_BODY_BYTES = 8 * 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

export class BadBodyError extends Error {}

export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  const encoding = (request.headers.get("content-encoding") ?? "identity").toLowerCase();
  if (encoding === "identity" && declared > limit) throw new BodyTooLargeError(limit);
  // A plain body of declared length (every small request: ls-refs, fetch negotiation) is read
  // whole by the runtime, which stops at Content-Length; streams cost more than the request
  // (even asking for `request.body` makes one).
  if (encoding === "identity" && Number.isSafeInteger(declared) && declared <= SMALL_BODY_BYTES) {
    try {
      return new Uint8Array(await request.arrayBuffer());
    } catch (error) {
      throw new BadBodyError(`cannot read request body: ${(error as Error).message}`);
    }
  }
  if (!request.body) return new Uint8Array(0);
  let stream: ReadableStream<Uint8Array> = request.body;
  if (encoding === "gzip" || encoding === "x-gzip") {
    stream = stream.pipeThrough(new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>);
  } else if (encoding !== "identity") {
    throw new BadBodyError(`unsupported Content-Encoding "${encoding}"`);
  }
  // Grown as the chunks arrive: only the pages written are ever resident.
  const body = new SharedArrayBuffer(0, { maxByteLength: limit });
  let total = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (total + value.length > limit) {
        total += value.length;
        throw new BodyTooLargeError(limit);
      }
      body.grow(total + value.length);
      new Uint8Array(body, total, value.length).set(value);
      total += value.length;
    }
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw error;
    throw new BadBodyError(`cannot read request body: ${(error as Error).message}`);
  } finally {
    reader.releaseLock();
    if (total > limit) await stream.cancel().catch(() => undefined);
  }
  if (total >= COLLECT_AFTER_BODY_BYTES) Bun.gc(true);
  return new Uint8Array(body);
}
