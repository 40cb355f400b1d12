/**
 * Annotated tag objects: "object", "type", "tag", an optional "tagger", extra headers, an empty
 * line and the message (git's fsck.c fsck_tag_standalone).
 */
import type { Oid } from "../oid.ts";
import { isValidRefName } from "../refname.ts";
import { ascii, byteString, ByteBuilder, fsckError, LF, startsWith } from "./bytes.ts";
import { OID_LINE_REST, parseHeadersAndMessage, readOidLine, requiredLine, verifyHeaders, finishObject, type HeadersAndMessage } from "./headers.ts";
import { parseIdentity, writeIdentityLine, type Identity } from "./identity.ts";
import { isObjectType, type ObjectType } from "./object.ts";

/** `headers` follow "tagger": git ignores them ("gpgsig" in tags of SHA-256 repositories). */
export interface Tag extends HeadersAndMessage {
  object: Oid;
  type: ObjectType;
  /** The tag's name, raw bytes (a valid ref name component need not be UTF-8). */
  tag: Uint8Array;
  /** Absent in tags made before git 0.99.1; git accepts them. */
  tagger: Identity | null;
}

const OBJECT = ascii("object ");
const TYPE = ascii("type ");
const TAG = ascii("tag ");
const TAGGER = ascii("tagger ");

/** Parses and validates a tag's structure; the result serializes back to the same bytes. */
export function parseTag(data: Uint8Array): Tag {
  verifyHeaders(data);
  if (!startsWith(data, 0, OBJECT)) throw fsckError("missingObject", "tag does not start with an \"object\" line");
  const object = readOidLine(data, 0, OBJECT, "badObjectSha1");
  const [typeStart, typeEnd] = requiredLine(data, OBJECT.length + OID_LINE_REST, TYPE, "missingTypeEntry");
  const type = byteString(data.subarray(typeStart, typeEnd));
  if (!isObjectType(type)) throw fsckError("badType", `tag names an unknown object type "${type}"`);
  const [tagStart, tagEnd] = requiredLine(data, typeEnd + 1, TAG, "missingTagEntry");
  let offset = tagEnd + 1;
  let tagger: Identity | null = null;
  if (startsWith(data, offset, TAGGER)) {
    const [start, end] = requiredLine(data, offset, TAGGER, "missingTaggerEntry");
    tagger = parseIdentity(data, start, end);
    offset = end + 1;
  }
  return { object, type, tag: data.subarray(tagStart, tagEnd), tagger, ...parseHeadersAndMessage(data, offset) };
}

/**
 * git fsck's tag checks at `receive.fsckObjects` strength. The tag name must make a valid
 * "refs/tags/<name>" (badTagName: only "info" in git fsck, but `git mktag` refuses it). A missing
 * tagger (missingTaggerEntry, "info") and extra headers (extraHeaderEntry, ignored) pass.
 */
export function fsckTag(data: Uint8Array): void {
  const { tag } = parseTag(data);
  if (!isValidRefName(`refs/tags/${byteString(tag)}`)) {
    throw fsckError("badTagName", `invalid tag name "${new TextDecoder().decode(tag)}"`);
  }
}

/** Serializes a tag; throws CorruptDataError when the result would not pass fsckTag. */
export function serializeTag(tag: Tag): Uint8Array {
  const out = new ByteBuilder().text(`object ${tag.object}\ntype ${tag.type}\n`).bytes(TAG).bytes(tag.tag).byte(LF);
  if (tag.tagger !== null) writeIdentityLine(out, TAGGER, tag.tagger);
  return finishObject(out, tag, fsckTag);
}
