import { isObjectType } from "../git/object/object.ts";
import type { ObjectFilter } from "../git/walk/filter.ts";
import { ProtocolError } from "./errors.ts";

/** Characters a combine: sub-spec must percent-encode (list-objects-filter-options.c). */
const RESERVED = new Set("~`!@#$^&*()[]{}\\;'\",<>?");
const UNIT_SUFFIX: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const MAX_COMBINED_FILTERS = 64;
const MAX_COMBINE_NESTING = 4;

function invalid(spec: string, reason = `invalid filter-spec '${spec}'`): ProtocolError {
  return new ProtocolError("protocol.filter", reason);
}

/** git_parse_ulong: decimal digits with an optional k/m/g unit. */
function parseSize(text: string, spec: string): number {
  const match = /^(\d{1,15})([kmgKMG]?)$/.exec(text);
  if (!match) throw invalid(spec);
  return Number(match[1]) * UNIT_SUFFIX[match[2].toLowerCase()];
}

function parseSubSpec(encoded: string, spec: string, nesting: number): ObjectFilter {
  for (const char of encoded) {
    if (char <= " " || RESERVED.has(char)) throw invalid(spec, `must escape char in sub-filter-spec: '${char}'`);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(encoded);
  } catch {
    throw invalid(spec);
  }
  return parseFilterSpec(decoded, nesting);
}

/** Parses a `filter <spec>` argument into the walk's filter; unknown, unsupported or malformed specs throw ProtocolError. */
export function parseFilterSpec(spec: string, nesting = 0): ObjectFilter {
  if (spec === "blob:none") return { kind: "blob:none" };
  if (spec.startsWith("blob:limit=")) return { kind: "blob:limit", limit: parseSize(spec.slice("blob:limit=".length), spec) };
  if (spec.startsWith("tree:")) return { kind: "tree", depth: parseSize(spec.slice("tree:".length), spec) };
  if (spec.startsWith("object:type=")) {
    const type = spec.slice("object:type=".length);
    if (!isObjectType(type)) throw invalid(spec, `'${type}' for 'object:type=<type>' is not a valid object type`);
    return { kind: "object:type", type };
  }
  if (spec.startsWith("combine:")) {
    const parts = spec.slice("combine:".length).split("+");
    if (parts[0] === "" || parts.length > MAX_COMBINED_FILTERS || nesting >= MAX_COMBINE_NESTING) throw invalid(spec);
    return { kind: "combine", filters: parts.map((part) => parseSubSpec(part, spec, nesting + 1)) };
  }
  if (spec.startsWith("sparse:oid=")) throw invalid(spec, "filter 'sparse:oid' not supported");
  throw invalid(spec);
}
