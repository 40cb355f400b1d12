import { CorruptDataError, LimitExceededError } from "../errors.ts";
import type { ObjectType } from "../object/object.ts";

/** Pack file framing (gitformat-pack: "pack-*.pack files have the following format"). */
export const PACK_SIGNATURE = 0x5041434b; // "PACK"
export const PACK_VERSION = 2;
export const PACK_HEADER_BYTES = 12;
export const PACK_TRAILER_BYTES = 20;

export const enum PackObjectKind {
  Commit = 1,
  Tree = 2,
  Blob = 3,
  Tag = 4,
  OfsDelta = 6,
  RefDelta = 7,
}

const KIND_TO_TYPE: Record<number, ObjectType | undefined> = { 1: "commit", 2: "tree", 3: "blob", 4: "tag" };
const TYPE_TO_KIND: Record<ObjectType, PackObjectKind> = {
  commit: PackObjectKind.Commit,
  tree: PackObjectKind.Tree,
  blob: PackObjectKind.Blob,
  tag: PackObjectKind.Tag,
};

export function kindToType(kind: number): ObjectType {
  const type = KIND_TO_TYPE[kind];
  if (!type) throw new CorruptDataError("pack.kind", `invalid pack object type ${kind}`);
  return type;
}

export function typeToKind(type: ObjectType): PackObjectKind {
  return TYPE_TO_KIND[type];
}

export interface PackHeader {
  version: number;
  objectCount: number;
}

export function readPackHeader(pack: Uint8Array): PackHeader {
  if (pack.length < PACK_HEADER_BYTES + PACK_TRAILER_BYTES) {
    throw new CorruptDataError("pack.truncated", `pack is truncated: ${pack.length} bytes`);
  }
  const view = new DataView(pack.buffer, pack.byteOffset, pack.byteLength);
  if (view.getUint32(0) !== PACK_SIGNATURE) throw new CorruptDataError("pack.signature", "not a pack: bad signature");
  const version = view.getUint32(4);
  if (version !== 2 && version !== 3) throw new CorruptDataError("pack.version", `unsupported pack version ${version}`);
  return { version, objectCount: view.getUint32(8) };
}

export function writePackHeader(objectCount: number): Uint8Array {
  const header = new Uint8Array(PACK_HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint32(0, PACK_SIGNATURE);
  view.setUint32(4, PACK_VERSION);
  view.setUint32(8, objectCount);
  return header;
}

/** The header in front of each packed object. */
export interface EntryHeader {
  kind: PackObjectKind;
  /** Inflated size: of the object, or of the delta for OFS/REF deltas. */
  size: number;
  /** Bytes the header occupies (type+size varint, plus the OFS offset or the REF base id). */
  headerLength: number;
  /** OFS_DELTA: the absolute pack offset of the base. */
  baseOffset?: number;
  /** REF_DELTA: the offset of the 20-byte base id inside the pack. */
  baseOidOffset?: number;
}

/** Sizes beyond this cannot be represented exactly in a JS number; nothing real comes close. */
const MAX_SAFE_SIZE = 2 ** 48;

/**
 * Parses the object header at `offset`: 3-bit type and a little-endian base-128 size, then for
 * OFS_DELTA a big-endian base-128 distance "with +1 per continuation byte", for REF_DELTA the
 * base's raw id (gitformat-pack, "Object types" / "Deltified representation").
 */
export function readEntryHeader(pack: Uint8Array, offset: number, end = pack.length): EntryHeader {
  let pos = offset;
  if (pos >= end) throw new CorruptDataError("pack.truncated", `truncated object header at ${offset}`);
  let byte = pack[pos++];
  const kind = (byte >> 4) & 7;
  let size = byte & 15;
  let shift = 4;
  while (byte & 0x80) {
    if (pos >= end) throw new CorruptDataError("pack.truncated", `truncated object header at ${offset}`);
    byte = pack[pos++];
    size += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (size > MAX_SAFE_SIZE) throw new LimitExceededError("pack.object-size", `object at ${offset} declares an absurd size`);
  }
  if (kind === PackObjectKind.OfsDelta) {
    if (pos >= end) throw new CorruptDataError("pack.truncated", `truncated delta offset at ${offset}`);
    byte = pack[pos++];
    let distance = byte & 0x7f;
    while (byte & 0x80) {
      if (pos >= end) throw new CorruptDataError("pack.truncated", `truncated delta offset at ${offset}`);
      byte = pack[pos++];
      distance = (distance + 1) * 128 + (byte & 0x7f);
      if (distance > offset) break;
    }
    if (distance === 0 || distance > offset) {
      throw new CorruptDataError("pack.delta-offset", `delta base offset of object at ${offset} is outside the pack`);
    }
    return { kind, size, headerLength: pos - offset, baseOffset: offset - distance };
  }
  if (kind === PackObjectKind.RefDelta) {
    if (pos + 20 > end) throw new CorruptDataError("pack.truncated", `truncated delta base id at ${offset}`);
    return { kind, size, headerLength: pos + 20 - offset, baseOidOffset: pos };
  }
  if (kind === 0 || kind === 5) throw new CorruptDataError("pack.kind", `invalid pack object type ${kind} at ${offset}`);
  return { kind, size, headerLength: pos - offset };
}

/** Encodes an entry header; `baseDistance` (OFS_DELTA) is this offset minus the base's. */
export function encodeEntryHeader(kind: PackObjectKind, size: number, baseDistance?: number): Uint8Array {
  const bytes: number[] = [];
  let byte = (kind << 4) | (size & 15);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes.push(byte | 0x80);
    byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  bytes.push(byte);
  if (kind === PackObjectKind.OfsDelta) {
    if (baseDistance === undefined || baseDistance <= 0) throw new RangeError("OFS_DELTA needs a positive base distance");
    const offsetBytes = [baseDistance & 0x7f];
    let distance = Math.floor(baseDistance / 128);
    while (distance > 0) {
      distance -= 1;
      offsetBytes.unshift(0x80 | (distance & 0x7f));
      distance = Math.floor(distance / 128);
    }
    bytes.push(...offsetBytes);
  }
  return Uint8Array.from(bytes);
}
