import { CorruptDataError } from "../errors.ts";
import { OID_HEX_LENGTH, type Oid } from "../oid.ts";

/**
 * The ref files of a `.git` directory (gitrepository-layout(5)): HEAD and loose refs hold an
 * object id or `ref: TARGET`; `packed-refs` lists `ID NAME` lines, each optionally followed by
 * `^PEELED` (refs/packed-backend.c). Parsing is as lenient as git's reader and no more.
 */

/** What a loose ref file (or HEAD) holds. */
export type RefFileValue = { kind: "direct"; oid: Oid } | { kind: "symbolic"; target: string };

export interface PackedRef {
  name: string;
  oid: Oid;
}

/** Anything larger is not a ref file (git's own are 41 bytes, or a short `ref:` line). */
const MAX_REF_FILE_BYTES = 4096;
const HEX_ID = /^[0-9a-fA-F]{40}$/;
const SYMBOLIC_PREFIX = "ref:";
const PACKED_REFS_HEADER = "# pack-refs with:";

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decode(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new CorruptDataError("gitdir.encoding", `${what} is not UTF-8`);
  }
}

function parseId(text: string, what: string): Oid {
  if (!HEX_ID.test(text)) throw new CorruptDataError("gitdir.ref-id", `${what}: ${JSON.stringify(text.slice(0, 60))} is not an object id`);
  return text.toLowerCase();
}

/**
 * A loose ref or HEAD, as git's parse_loose_ref_contents reads it: `ref:` then the target
 * (surrounding whitespace ignored), or an id followed by the end or whitespace.
 */
export function parseRefFile(bytes: Uint8Array, what = "ref file"): RefFileValue {
  if (bytes.length > MAX_REF_FILE_BYTES) throw new CorruptDataError("gitdir.ref-size", `${what} of ${bytes.length} bytes is not a ref file`);
  const text = decode(bytes, what);
  if (text.startsWith(SYMBOLIC_PREFIX)) {
    const target = text.slice(SYMBOLIC_PREFIX.length).trim();
    if (target.length === 0 || /[\s\0]/.test(target)) throw new CorruptDataError("gitdir.ref-target", `${what}: bad symbolic ref target`);
    return { kind: "symbolic", target };
  }
  const rest = text.slice(OID_HEX_LENGTH);
  if (rest.length > 0 && !/^\s/.test(rest)) throw new CorruptDataError("gitdir.ref-id", `${what}: garbage after the object id`);
  return { kind: "direct", oid: parseId(text.slice(0, OID_HEX_LENGTH), what) };
}

/**
 * The refs of a packed-refs file, in file order. Peeled lines are checked for form and dropped
 * (peeling is recomputed from the objects); a name listed twice is refused, as is any line git
 * would call unexpected. Names are returned as written: whether each is a valid ref name is the
 * caller's decision.
 */
export function parsePackedRefs(bytes: Uint8Array): PackedRef[] {
  const text = decode(bytes, "packed-refs");
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const refs: PackedRef[] = [];
  const seen = new Set<string>();
  let peelable = false;
  lines.forEach((line, index) => {
    const where = `packed-refs line ${index + 1}`;
    if (index === 0 && line.startsWith(PACKED_REFS_HEADER)) return;
    if (line.startsWith("^")) {
      if (!peelable) throw new CorruptDataError("gitdir.packed-refs", `${where}: peeled line without a ref before it`);
      parseId(line.slice(1), where);
      peelable = false;
      return;
    }
    const name = line.slice(OID_HEX_LENGTH + 1);
    if (line.charAt(OID_HEX_LENGTH) !== " " || name.length === 0 || /[\0\r]/.test(name)) {
      throw new CorruptDataError("gitdir.packed-refs", `${where}: unexpected line ${JSON.stringify(line.slice(0, 80))}`);
    }
    if (seen.has(name)) throw new CorruptDataError("gitdir.packed-refs", `${where}: ${name} is listed twice`);
    seen.add(name);
    refs.push({ name, oid: parseId(line.slice(0, OID_HEX_LENGTH), where) });
    peelable = true;
  });
  return refs;
}
