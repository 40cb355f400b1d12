import { concatBytes } from "../git/bytes.ts";

/**
 * Request bodies of git clients: plain, gzip-compressed (`Content-Encoding: gzip`, which git sends
 * above 1 KiB) or chunked (above http.postBuffer). Every byte counted against a limit, after
 * decompression, so neither a huge upload nor a gzip bomb can exhaust memory.
 */
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
  if (!request.body) return new Uint8Array(0);
  // A plain body of declared length (every small request: ls-refs, fetch negotiation) is read
  // whole by the runtime, which stops at Content-Length; streams cost more than the request.
  if (encoding === "identity" && Number.isSafeInteger(declared)) {
    try {
      return new Uint8Array(await request.arrayBuffer());
    } catch (error) {
      throw new BadBodyError(`cannot read request body: ${(error as Error).message}`);
    }
  }
  let stream: ReadableStream<Uint8Array> = request.body;
  if (encoding === "gzip" || encoding === "x-gzip") {
    stream = stream.pipeThrough(new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>);
  } else if (encoding !== "identity") {
    throw new BadBodyError(`unsupported Content-Encoding "${encoding}"`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) throw new BodyTooLargeError(limit);
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw error;
    throw new BadBodyError(`cannot read request body: ${(error as Error).message}`);
  } finally {
    reader.releaseLock();
    if (total > limit) await stream.cancel().catch(() => undefined);
  }
  return concatBytes(chunks, total);
}
