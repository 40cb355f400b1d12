import zlib from "node:zlib";
import { CorruptDataError, LimitExceededError } from "../errors.ts";
import type { Codec, InflateResult, Sha1Hasher } from "./codec.ts";

interface InflateWithInfo {
  buffer: Buffer;
  engine: { bytesWritten: number };
}

class NativeSha1 implements Sha1Hasher {
  private readonly hasher = new Bun.CryptoHasher("sha1");
  update(data: Uint8Array): Sha1Hasher {
    this.hasher.update(data);
    return this;
  }
  digest(): Uint8Array {
    const digest = this.hasher.digest();
    return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
  }
}

/**
 * Streams of at most this many bytes go to Bun.inflateSync, which neither bounds its output nor
 * reports the input it read: deflate expands at most 1032:1, so a corrupt or hostile stream of
 * this length inflates to at most 17 MiB before its size is checked.
 */
const BUN_INFLATE_MAX_INPUT = 16 * 1024;

/**
 * zlib's deflateBound with its default window and memory level: the longest stream zlib makes of
 * `size` bytes (stored blocks, 5 bytes per 16 KiB), with the zlib header and Adler-32 trailer.
 */
function deflateBound(size: number): number {
  return size + (size >>> 12) + (size >>> 14) + (size >>> 25) + 13 + 6;
}

/** What Bun.inflateSync makes of `input` (shared memory too), or undefined when it cannot inflate it. */
function bunInflate(input: Uint8Array): Uint8Array | undefined {
  try {
    return Bun.inflateSync(input as Uint8Array<ArrayBuffer>, { windowBits: 15 });
  } catch {
    return undefined;
  }
}

/**
 * Where the zlib stream that inflated to `data` ends in `input` (which holds all of it): after
 * its Adler-32 trailer. The first place those 4 bytes appear, unless they also appear earlier by
 * chance inside the stream; then the end is the first such place up to which the stream inflates
 * (zlib refuses a stream cut anywhere before its end).
 */
function streamEnd(input: Uint8Array, data: Uint8Array): number | undefined {
  const check = Bun.hash.adler32(data);
  const first = check >>> 24;
  const ends: number[] = [];
  for (let at = input.indexOf(first, 2); at >= 0 && at + 4 <= input.length; at = input.indexOf(first, at + 1)) {
    if (input[at + 1] === ((check >>> 16) & 0xff) && input[at + 2] === ((check >>> 8) & 0xff) && input[at + 3] === (check & 0xff)) ends.push(at + 4);
  }
  if (ends.length === 1) return ends[0];
  return ends.find((end) => bunInflate(input.subarray(0, end))?.length === data.length);
}

/**
 * node:zlib makes a stream object (with a 16 KiB buffer) per call, which costs several times the
 * inflation of a small object (70% of indexing a pushed pack of 100 commits); Bun.inflateSync
 * does not. It is given at most what zlib makes of `maxOutput` bytes, which bounds its output; a
 * stream it cannot inflate from that, or that inflates beyond `maxOutput`, goes through node:zlib,
 * bounded by `maxOutput`, whose answer (or error) is the one given.
 */
function inflate(input: Uint8Array, maxOutput: number): InflateResult {
  const bound = deflateBound(maxOutput);
  if (bound <= BUN_INFLATE_MAX_INPUT) {
    const window = input.subarray(0, bound);
    const data = bunInflate(window);
    const bytesRead = data && data.length <= maxOutput ? streamEnd(window, data) : undefined;
    if (data && bytesRead !== undefined) return { data, bytesRead };
  }
  return inflateWithNodeZlib(input, maxOutput);
}

function inflateWithNodeZlib(input: Uint8Array, maxOutput: number): InflateResult {
  let result: InflateWithInfo;
  try {
    // `info: true` exposes the engine, whose bytesWritten is the input consumed by this stream.
    result = zlib.inflateSync(input, {
      info: true,
      maxOutputLength: Math.max(1, maxOutput),
    } as zlib.ZlibOptions) as unknown as InflateWithInfo;
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (code === "ERR_BUFFER_TOO_LARGE" || message.includes("larger than")) {
      throw new LimitExceededError("zlib.size", `inflated data exceeds ${maxOutput} bytes`);
    }
    throw new CorruptDataError("zlib.corrupt", `corrupt zlib stream: ${message}`);
  }
  if (result.buffer.length > maxOutput) {
    throw new LimitExceededError("zlib.size", `inflated data exceeds ${maxOutput} bytes`);
  }
  return { data: new Uint8Array(result.buffer.buffer, result.buffer.byteOffset, result.buffer.length), bytesRead: result.engine.bytesWritten };
}

/**
 * inflate without counting the input: where the caller knows the size (a stored pack entry's
 * header declares it) and the entry's extent, the search for the stream's end is saved too.
 */
function inflateSized(input: Uint8Array, size: number): Uint8Array {
  const bound = deflateBound(size);
  const data = bound <= BUN_INFLATE_MAX_INPUT ? bunInflate(input.subarray(0, bound)) : undefined;
  return data && data.length <= size ? data : inflateWithNodeZlib(input, size).data;
}

/** The zlib header's second byte (FLEVEL, then FCHECK) by compression level, as zlib writes it. */
function zlibFlags(level: number): number {
  if (level === 0 || level === 1) return 0x01;
  if (level >= 2 && level <= 5) return 0x5e;
  if (level === 6 || level === zlib.constants.Z_DEFAULT_COMPRESSION) return 0x9c;
  return 0xda;
}

/**
 * zlib.deflateSync's stream, byte for byte, without its stream object per call (which cost as much
 * as deflating a small object, see inflateSized): Bun.deflateSync's raw deflate between the zlib
 * header and the Adler-32 trailer.
 */
function deflate(data: Uint8Array, level: number = zlib.constants.Z_DEFAULT_COMPRESSION): Uint8Array {
  const raw = Bun.deflateSync(data as Uint8Array<ArrayBuffer>, { level: level as Bun.ZlibCompressionOptions["level"] });
  const out = new Uint8Array(raw.length + 6);
  out[0] = 0x78;
  out[1] = zlibFlags(level);
  out.set(raw, 2);
  new DataView(out.buffer).setUint32(raw.length + 2, Bun.hash.adler32(data));
  return out;
}

export const nativeCodec: Codec = {
  name: "native",
  inflate,
  inflateSized,
  deflate,
  sha1: () => new NativeSha1(),
  crc32: (data: Uint8Array, previous = 0) => Bun.hash.crc32(data, previous),
};
