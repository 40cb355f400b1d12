import type { Codec } from "../../codec/codec.ts";
import { readDeltaHeader } from "../../delta/apply.ts";
import { CorruptDataError, MissingObjectError } from "../../errors.ts";
import type { GitObject, ObjectReader, ObjectType } from "../../object/object.ts";
import type { Oid } from "../../oid.ts";
import { kindToType, PackObjectKind } from "../format.ts";
import type { StoredEntry } from "../types.ts";

/**
 * Where the pack writer gets objects: any ObjectReader, plus (optionally) the stored pack
 * representation of an object, which lets it copy compressed bytes verbatim instead of
 * inflating and deflating again (git's "reuse object" and "reuse delta").
 */
export interface PackSource extends ObjectReader {
  stored?(oid: Oid): StoredEntry | undefined;
}

export function isDeltaKind(kind: PackObjectKind): boolean {
  return kind === PackObjectKind.OfsDelta || kind === PackObjectKind.RefDelta;
}

/** Reads an object the pack must contain; absence or a type other than the expected one is an error. */
export function readRequiredObject(source: PackSource, oid: Oid, type: ObjectType): GitObject {
  const object = source.readObject(oid);
  if (!object) throw new MissingObjectError(oid);
  if (object.type !== type) {
    throw new CorruptDataError("pack.object-type", `object ${oid} is a ${object.type}, expected a ${type}`);
  }
  return object;
}

/**
 * The inflated size of an object, as cheaply as possible: a stored whole object records it in
 * its entry header, a stored delta in its (small) delta header; only otherwise is the object read.
 */
export function objectSize(source: PackSource, oid: Oid, type: ObjectType, codec: Codec): number {
  const stored = source.stored?.(oid);
  if (stored && !isDeltaKind(stored.kind)) return stored.size;
  if (stored) return readDeltaHeader(codec.inflate(stored.compressed, stored.size).data).resultSize;
  return readRequiredObject(source, oid, type).data.length;
}

/** Longest stored delta chain followed to find an object's type before giving up and reading it. */
const MAX_TYPE_CHAIN = 4096;

/**
 * The type of an object known only by id (a thin-pack base given without a spec): the stored
 * delta chain leads to a whole object that records it. Undefined when the source lacks the object.
 */
export function objectType(source: PackSource, oid: Oid): ObjectType | undefined {
  let current: Oid | undefined = oid;
  for (let step = 0; current !== undefined && step < MAX_TYPE_CHAIN; step++) {
    const stored: StoredEntry | undefined = source.stored?.(current);
    if (!stored) break;
    if (!isDeltaKind(stored.kind)) return kindToType(stored.kind);
    current = stored.baseOid;
  }
  return source.readObject(oid)?.type;
}
