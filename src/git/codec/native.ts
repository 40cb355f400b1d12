import zlib from "node:zlib";
import { CorruptDataError, LimitExceededError } from "../errors.ts";
import type { Codec, InflateResult, Sha1Hasher } from "./codec.ts";

/**
 * The native zlib stream under node:zlib's Inflate, as Bun implements it: `writeSync` inflates
 * into a given buffer and leaves the output and input still available in `_writeState`; an
 * error is reported through `onerror` before writeSync returns.
 */
interface ZlibHandle {
  reset(): void;
  writeSync(flush: number, input: Uint8Array, inputOffset: number, inputLength: number, output: Uint8Array, outputOffset: number, outputLength: number): void;
  onerror: (message: string, errno: number) => void;
}

/**
 * Output room of the first try at most: a larger size (a loose object's limit, a pack entry's
 * claim) is allocated only as far as the stream delivers it, doubling.
 */
const FIRST_OUTPUT_BYTES = 1024 * 1024;

/**
 * One zlib inflate stream, reset for each object. zlib.inflateSync makes a new stream per call
 * (window and state, ~40 KiB of native memory) that only the collector frees, and the collector
 * does not see that memory: indexing a pack of 100k small objects grew the process by 100 MiB
 * between collections. Reusing one stream per thread costs nothing of that (and is faster).
 */
class Inflater {
  private readonly stream = zlib.createInflate() as unknown as { _handle: ZlibHandle; _writeState: Uint32Array };
  private readonly handle = this.stream._handle;
  private error: string | undefined;

  constructor() {
    this.handle.onerror = (message) => {
      this.error = message;
    };
  }

  inflate(input: Uint8Array, maxOutput: number): InflateResult {
    const { handle } = this;
    const state = this.stream._writeState;
    handle.reset();
    this.error = undefined;
    // One byte beyond the limit: a stream that fills it is over the limit.
    let output = new Uint8Array(Math.min(maxOutput + 1, FIRST_OUTPUT_BYTES));
    let produced = 0;
    let consumed = 0;
    for (;;) {
      handle.writeSync(zlib.constants.Z_FINISH, input, consumed, input.length - consumed, output, produced, output.length - produced);
      if (this.error !== undefined) throw new CorruptDataError("zlib.corrupt", `corrupt zlib stream: ${this.error}`);
      const [outputLeft, inputLeft] = state;
      consumed = input.length - inputLeft;
      produced = output.length - outputLeft;
      if (outputLeft > 0) break;
      if (produced > maxOutput) throw new LimitExceededError("zlib.size", `inflated data exceeds ${maxOutput} bytes`);
      const grown = new Uint8Array(Math.min(maxOutput + 1, output.length * 2));
      grown.set(output);
      output = grown;
    }
    return { data: output.subarray(0, produced), bytesRead: consumed };
  }
}

const inflater = new Inflater();

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

/** The zlib header's second byte (FLEVEL, then FCHECK) by compression level, as zlib writes it. */
function zlibFlags(level: number): number {
  if (level === 0 || level === 1) return 0x01;
  if (level >= 2 && level <= 5) return 0x5e;
  if (level === 6 || level === zlib.constants.Z_DEFAULT_COMPRESSION) return 0x9c;
  return 0xda;
}

/**
 * zlib.deflateSync's stream, byte for byte, without its stream object per call (which cost as
 * much as deflating a small object: 10% of an incremental fetch): Bun.deflateSync's raw deflate
 * between the zlib header and the Adler-32 trailer.
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
  inflate: (input: Uint8Array, maxOutput: number) => inflater.inflate(input, maxOutput),
  deflate,
  sha1: () => new NativeSha1(),
  crc32: (data: Uint8Array, previous = 0) => Bun.hash.crc32(data, previous),
};
