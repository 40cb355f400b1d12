import type { Oid } from "./oid.ts";

/**
 * Reference name rules of git-check-ref-format(1), without its --normalize and
 * --refspec-pattern modes (a server stores names exactly as sent, and never patterns).
 */
export interface RefNameOptions {
  /** Accept a name of one component (`git check-ref-format --allow-onelevel`). */
  allowOneLevel?: boolean;
}

const LOCK_SUFFIX = ".lock";
const DOT = 0x2e;
const SLASH = 0x2f;
const OPEN_BRACE = 0x7b;
const AT = 0x40;

/** Characters never allowed anywhere: space, `~ ^ : ? * [ \` (rules 4, 5 and 10). */
const FORBIDDEN_CHARACTERS = new Set([0x20, 0x7e, 0x5e, 0x3a, 0x3f, 0x2a, 0x5b, 0x5c]);

function isForbiddenCharacter(code: number): boolean {
  // Rule 4: ASCII control characters (below 0x20, and DEL).
  return code < 0x20 || code === 0x7f || FORBIDDEN_CHARACTERS.has(code);
}

/**
 * Checks one slash-separated component (git's refs.c check_refname_component): not empty, no
 * leading dot, no `..`, no `@{`, no forbidden character, no `.lock` suffix. Returns its end.
 */
function componentEnd(name: string, start: number): number {
  let previous = 0;
  let index = start;
  for (; index < name.length; index++) {
    const code = name.charCodeAt(index);
    if (code === SLASH) break;
    if (isForbiddenCharacter(code)) return -1;
    if (code === DOT && previous === DOT) return -1;
    if (code === OPEN_BRACE && previous === AT) return -1;
    previous = code;
  }
  if (index === start || name.charCodeAt(start) === DOT) return -1;
  if (index - start >= LOCK_SUFFIX.length && name.endsWith(LOCK_SUFFIX, index)) return -1;
  return index;
}

/** Whether `name` is a well-formed reference name (what `git check-ref-format` accepts). */
export function isValidRefName(name: string, options: RefNameOptions = {}): boolean {
  if (name === "@" || name.length === 0 || name.charCodeAt(name.length - 1) === DOT) return false;
  let components = 0;
  for (let start = 0; ; start++) {
    const end = componentEnd(name, start);
    if (end < 0) return false;
    components++;
    if (end === name.length) break;
    start = end;
  }
  return components >= 2 || options.allowOneLevel === true;
}

/**
 * Whether a push may create or update `name`: it must live under `refs/` and the rest must be a
 * valid name of at least two components. git's receive-pack refuses anything else as a
 * "funny refname" (builtin/receive-pack.c, update()).
 */
export function isUpdatableRefName(name: string): boolean {
  return name.startsWith("refs/") && isValidRefName(name.slice("refs/".length));
}

/** One command of a push or an API write: move `ref` from `oldOid` to `newOid` (ZERO_OID: absent). */
export interface RefUpdate {
  readonly ref: string;
  readonly oldOid: Oid;
  readonly newOid: Oid;
}

/** What became of one ref update: applied, or refused with a short reason (as report-status says it). */
export type RefUpdateStatus = { readonly ref: string; readonly ok: true } | { readonly ref: string; readonly ok: false; readonly reason: string };
