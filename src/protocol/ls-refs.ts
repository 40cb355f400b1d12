import { PktLineBuilder } from "../git/pktline/index.ts";
import { ProtocolError } from "./errors.ts";
import { listRefs, peeledTarget } from "./refs.ts";
import type { RepositorySnapshot } from "./snapshot.ts";

interface LsRefsArgs {
  symrefs: boolean;
  peel: boolean;
  unborn: boolean;
  prefixes: string[];
}

/** git ignores the prefixes beyond this many and lists everything (ls-refs.c). */
const TOO_MANY_PREFIXES = 65536;

function parseLsRefsArgs(args: readonly string[]): LsRefsArgs {
  const parsed: LsRefsArgs = { symrefs: false, peel: false, unborn: false, prefixes: [] };
  for (const arg of args) {
    if (arg === "symrefs") parsed.symrefs = true;
    else if (arg === "peel") parsed.peel = true;
    else if (arg === "unborn") parsed.unborn = true;
    else if (arg.startsWith("ref-prefix ")) parsed.prefixes.push(arg.slice("ref-prefix ".length));
    else throw new ProtocolError("protocol.argument", `unexpected line: '${arg}'`);
  }
  if (parsed.prefixes.length >= TOO_MANY_PREFIXES) parsed.prefixes = [];
  return parsed;
}

/**
 * The `ls-refs` command (gitprotocol-v2, "ls-refs"): HEAD first, then every ref matching a
 * prefix, as `oid name [symref-target:T] [peeled:P]`; an unborn HEAD is listed as
 * `unborn HEAD symref-target:T` when the client asked for both `unborn` and `symrefs`.
 */
export function lsRefs(snapshot: RepositorySnapshot, args: readonly string[]): Uint8Array {
  const { symrefs, peel, unborn, prefixes } = parseLsRefsArgs(args);
  const matches = (name: string) => prefixes.length === 0 || prefixes.some((prefix) => name.startsWith(prefix));
  const out = new PktLineBuilder();
  const refs = listRefs(snapshot);
  const headIsUnborn = refs[0]?.name !== "HEAD" && snapshot.head !== undefined;
  if (headIsUnborn && unborn && symrefs && matches("HEAD")) out.text(`unborn HEAD symref-target:${snapshot.head}`);
  for (const ref of refs) {
    if (!matches(ref.name)) continue;
    let line = `${ref.oid} ${ref.name}`;
    if (symrefs && ref.symrefTarget !== undefined) line += ` symref-target:${ref.symrefTarget}`;
    const peeled = peel ? peeledTarget(snapshot, ref.oid) : undefined;
    if (peeled !== undefined) line += ` peeled:${peeled}`;
    out.text(line);
  }
  return out.flush().toBytes();
}
