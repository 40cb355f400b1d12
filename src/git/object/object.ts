import type { Codec } from "../codec/codec.ts";
import { CorruptDataError } from "../errors.ts";
import { oidToHex, type Oid } from "../oid.ts";

export type ObjectType = "commit" | "tree" | "blob" | "tag";

/** An object's type and its content bytes (without the "type size\0" header). */
export interface GitObject {
  type: ObjectType;
  data: Uint8Array;
}

/** Random access to objects by id: what thin-pack completion and reachability walks need. */
export interface ObjectReader {
  hasObject(oid: Oid): boolean;
  /** The object, or undefined when absent. Throws only when the stored data is corrupt. */
  readObject(oid: Oid): GitObject | undefined;
}

const encoder = new TextEncoder();

/** The loose-object header "type size\0" that an object id is the SHA-1 of, with the content. */
export function objectHeader(type: ObjectType, size: number): Uint8Array {
  return encoder.encode(`${type} ${size}\0`);
}

export function hashObject(codec: Codec, type: ObjectType, data: Uint8Array): Oid {
  return oidToHex(codec.sha1().update(objectHeader(type, data.length)).update(data).digest());
}

export function isObjectType(value: string): value is ObjectType {
  return value === "commit" || value === "tree" || value === "blob" || value === "tag";
}

export function parseObjectType(value: string): ObjectType {
  if (!isObjectType(value)) throw new CorruptDataError("object.type", `unknown object type "${value}"`);
  return value;
}

/** `base` and `extra` together: what a reader sees of objects a write is about to store. */
export function withObjects(base: ObjectReader, extra: ReadonlyMap<Oid, GitObject>): ObjectReader {
  return {
    hasObject: (oid) => extra.has(oid) || base.hasObject(oid),
    readObject: (oid) => extra.get(oid) ?? base.readObject(oid),
  };
}
