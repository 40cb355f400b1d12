import type { Codec } from "../../codec/codec.ts";
import { oidToHex, type Oid } from "../../oid.ts";
import { encodeEntryHeader, PACK_TRAILER_BYTES, typeToKind } from "../format.ts";
import type { ScannedPack } from "./bytes-to-entries.ts";
import type { ThinBase } from "./resolve-deltas.ts";

/** Where the object count sits in the pack header (after "PACK" and the version). */
const OBJECT_COUNT_OFFSET = 8;

/** A thin pack made self-contained: its bytes, and where each appended base landed. */
export interface CompletedPack {
  pack: Uint8Array;
  packChecksum: Oid;
  /** Offset and CRC-32 of each appended base, in the order of `bases`. */
  appended: { offset: number; crc32: number }[];
}

/**
 * Appends thin bases as whole objects after the pack's last entry, rewrites the object count in
 * the header and the trailing checksum ("git index-pack --fix-thin"). The original entries keep
 * their offsets and CRCs; REF_DELTAs still name their bases by id, which now resolve in-pack.
 */
export function entriesToBytes(scanned: ScannedPack, bases: readonly ThinBase[], codec: Codec): CompletedPack {
  const encoded = bases.map((base) => {
    const header = encodeEntryHeader(typeToKind(base.type), base.data.length);
    return { header, compressed: codec.deflate(base.data) };
  });
  const appendedBytes = encoded.reduce((sum, { header, compressed }) => sum + header.length + compressed.length, 0);
  const pack = new Uint8Array(scanned.trailerStart + appendedBytes + PACK_TRAILER_BYTES);
  pack.set(scanned.pack.subarray(0, scanned.trailerStart));
  new DataView(pack.buffer).setUint32(OBJECT_COUNT_OFFSET, scanned.objectCount + bases.length);

  const appended: CompletedPack["appended"] = [];
  let offset = scanned.trailerStart;
  for (const { header, compressed } of encoded) {
    pack.set(header, offset);
    pack.set(compressed, offset + header.length);
    const end = offset + header.length + compressed.length;
    appended.push({ offset, crc32: codec.crc32(pack.subarray(offset, end)) });
    offset = end;
  }
  const checksum = codec.sha1().update(pack.subarray(0, offset)).digest();
  pack.set(checksum, offset);
  return { pack, packChecksum: oidToHex(checksum, 0), appended };
}
