import { CorruptDataError } from "../git/errors.ts";
import { parseTag, type ObjectReader } from "../git/object/index.ts";
import type { Oid } from "../git/oid.ts";

/** Tags of tags are legal but rare; a chain longer than this is treated as corrupt. */
const MAX_TAG_CHAIN = 64;

/**
 * What an annotated tag finally points at (following tags of tags), or undefined when `oid`
 * is not a tag. A target missing from the repository is still returned: the tag names it.
 */
export function peelTag(reader: ObjectReader, oid: Oid): Oid | undefined {
  let object = reader.readObject(oid);
  if (object?.type !== "tag") return undefined;
  for (let hops = 0; hops < MAX_TAG_CHAIN; hops++) {
    const target = parseTag(object.data).object;
    object = reader.readObject(target);
    if (object?.type !== "tag") return target;
  }
  throw new CorruptDataError("tag.chain", `tag chain from ${oid} is longer than ${MAX_TAG_CHAIN}`);
}
