/**
 * The engine's only dependency on compression and hashing. Two implementations exist: the
 * native one (node:zlib, Bun.CryptoHasher, Bun.hash.crc32) is the default; the portable one
 * (pako, sha1-uint8array) runs anywhere. The engine's tests run on both.
 */
export interface InflateResult {
  data: Uint8Array;
  /** How many bytes of the input the one zlib stream occupied (header to Adler-32 trailer). */
  bytesRead: number;
}

export interface Sha1Hasher {
  update(data: Uint8Array): Sha1Hasher;
  /** The 20-byte digest; the hasher must not be used afterwards. */
  digest(): Uint8Array;
}

export interface Codec {
  readonly name: "native" | "portable";
  /**
   * Inflates the single zlib stream that starts at `input[0]`; bytes after it are ignored.
   * Output beyond `maxOutput` bytes is never allocated: the call throws LimitExceededError.
   * A truncated or corrupt stream throws CorruptDataError.
   */
  inflate(input: Uint8Array, maxOutput: number): InflateResult;
  deflate(data: Uint8Array, level?: number): Uint8Array;
  sha1(): Sha1Hasher;
  /** CRC-32 (zlib's polynomial), continuing from `previous` when given. */
  crc32(data: Uint8Array, previous?: number): number;
}
