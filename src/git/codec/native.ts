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

export const nativeCodec: Codec = {
  name: "native",
  inflate(input: Uint8Array, maxOutput: number): InflateResult {
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
  },
  deflate(data: Uint8Array, level = zlib.constants.Z_DEFAULT_COMPRESSION): Uint8Array {
    const out = zlib.deflateSync(data, { level });
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  },
  sha1: () => new NativeSha1(),
  crc32: (data: Uint8Array, previous = 0) => Bun.hash.crc32(data, previous),
};
