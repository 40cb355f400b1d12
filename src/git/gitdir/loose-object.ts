import type { Codec } from "../codec/codec.ts";
import { CorruptDataError, LimitExceededError } from "../errors.ts";
import { hashObject, isObjectType, type GitObject } from "../object/object.ts";
import type { Oid } from "../oid.ts";

/**
 * A loose object file, `objects/xx/yyyy…` (gitformat-loose(5)): one zlib stream of
 * `TYPE SP SIZE NUL` and the content, whose SHA-1 is the id the file is named by.
 */

/** "commit 18446744073709551615\0" is 27 bytes: room for any type and size git writes. */
const MAX_HEADER_BYTES = 32;
const NUL = 0;
const SPACE = 0x20;

function corrupt(oid: Oid, reason: string): CorruptDataError {
  return new CorruptDataError("loose.corrupt", `loose object ${oid}: ${reason}`);
}

/**
 * Inflates and checks the loose object stored as `oid`: its header, its size, nothing after the
 * zlib stream (git's "garbage at end of loose object"), and its id. Content larger than
 * `maxObjectSize` throws LimitExceededError before more than that is inflated.
 */
export function parseLooseObject(oid: Oid, compressed: Uint8Array, codec: Codec, maxObjectSize: number): GitObject {
  let inflated;
  try {
    inflated = codec.inflate(compressed, maxObjectSize + MAX_HEADER_BYTES);
  } catch (error) {
    if (error instanceof LimitExceededError) {
      throw new LimitExceededError("loose.object-size", `loose object ${oid} is larger than the limit of ${maxObjectSize} bytes`);
    }
    if (error instanceof CorruptDataError) throw corrupt(oid, error.message);
    throw error;
  }
  if (inflated.bytesRead !== compressed.length) throw corrupt(oid, "garbage after the zlib stream");
  const bytes = inflated.data;
  const space = bytes.subarray(0, MAX_HEADER_BYTES).indexOf(SPACE);
  const nul = bytes.subarray(0, MAX_HEADER_BYTES).indexOf(NUL);
  if (space <= 0 || nul < space + 2) throw corrupt(oid, "malformed header");
  const type = new TextDecoder().decode(bytes.subarray(0, space));
  const sizeText = new TextDecoder().decode(bytes.subarray(space + 1, nul));
  if (!isObjectType(type)) throw corrupt(oid, `unknown type ${JSON.stringify(type)}`);
  if (!/^\d+$/.test(sizeText)) throw corrupt(oid, `malformed size ${JSON.stringify(sizeText)}`);
  const data = bytes.subarray(nul + 1);
  if (Number(sizeText) !== data.length) throw corrupt(oid, `header says ${sizeText} bytes, content has ${data.length}`);
  const actual = hashObject(codec, type, data);
  if (actual !== oid) throw corrupt(oid, `content hashes to ${actual}`);
  return { type, data };
}
