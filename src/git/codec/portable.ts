import {
  ZStream,
  Z_BUF_ERROR,
  Z_FINISH,
  Z_OK,
  Z_STREAM_END,
  deflate,
  zlibInflate,
  zlibInflateEnd,
  zlibInflateInit,
} from "pako";
import { createHash } from "sha1-uint8array";
import { concatBytes } from "../bytes.ts";
import { CorruptDataError, LimitExceededError } from "../errors.ts";
import type { Codec, InflateResult, Sha1Hasher } from "./codec.ts";

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(data: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

const INFLATE_CHUNK = 64 * 1024;

/** Inflates with pako's low-level stream so total_in tells where the zlib stream ended. */
function inflate(input: Uint8Array, maxOutput: number): InflateResult {
  const strm = new ZStream();
  if (zlibInflateInit(strm) !== Z_OK) throw new CorruptDataError("zlib.corrupt", "cannot initialise inflate");
  strm.input = input;
  strm.next_in = 0;
  strm.avail_in = input.length;
  const chunks: Uint8Array[] = [];
  let produced = 0;
  try {
    for (;;) {
      const room = Math.min(INFLATE_CHUNK, maxOutput - produced + 1);
      strm.output = new Uint8Array(room);
      strm.next_out = 0;
      strm.avail_out = room;
      const status = zlibInflate(strm, Z_FINISH);
      const written = room - strm.avail_out;
      produced += written;
      if (produced > maxOutput) {
        throw new LimitExceededError("zlib.size", `inflated data exceeds ${maxOutput} bytes`);
      }
      chunks.push(strm.output.subarray(0, written));
      if (status === Z_STREAM_END) break;
      if (status === Z_BUF_ERROR && strm.avail_in === 0) {
        throw new CorruptDataError("zlib.corrupt", "corrupt zlib stream: unexpected end of file");
      }
      if (status !== Z_OK && status !== Z_BUF_ERROR) {
        throw new CorruptDataError("zlib.corrupt", `corrupt zlib stream: ${strm.msg || status}`);
      }
    }
  } finally {
    zlibInflateEnd(strm);
  }
  const data = chunks.length === 1 ? chunks[0] : concatBytes(chunks, produced);
  return { data, bytesRead: strm.total_in };
}

class PortableSha1 implements Sha1Hasher {
  private readonly hash = createHash("sha1");
  update(data: Uint8Array): Sha1Hasher {
    this.hash.update(data);
    return this;
  }
  digest(): Uint8Array {
    return this.hash.digest();
  }
}

export const portableCodec: Codec = {
  name: "portable",
  inflate,
  deflate: (data: Uint8Array, level = -1) => deflate(data, { level: level as 0 }),
  sha1: () => new PortableSha1(),
  crc32,
};
