import type { Oid } from "../git/oid.ts";
import type { RepositorySnapshot } from "./snapshot.ts";
import { peelTags } from "../git/walk/commits.ts";

/** A ref as the protocol lists it: HEAD first (when it resolves), then every ref by name. */
export interface ListedRef {
  name: string;
  oid: Oid;
  /** HEAD's target, for HEAD only. */
  symrefTarget?: string;
}

/** HEAD's object id, or undefined when HEAD is unborn (or absent). */
export function resolveHead(snapshot: RepositorySnapshot): Oid | undefined {
  return snapshot.head === undefined ? undefined : snapshot.refs.get(snapshot.head);
}

/** Ref names in git's iteration order (byte order of the names). */
export function sortedRefNames(snapshot: RepositorySnapshot): string[] {
  return [...snapshot.refs.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** HEAD (when born) followed by every ref in name order, as upload-pack advertises them. */
export function listRefs(snapshot: RepositorySnapshot): ListedRef[] {
  const listed: ListedRef[] = [];
  const head = resolveHead(snapshot);
  if (head !== undefined) listed.push({ name: "HEAD", oid: head, symrefTarget: snapshot.head });
  for (const name of sortedRefNames(snapshot)) listed.push({ name, oid: snapshot.refs.get(name)! });
  return listed;
}

/** The object an annotated tag finally points at, or undefined when `oid` is not a tag. */
export function peeledTarget(snapshot: RepositorySnapshot, oid: Oid): Oid | undefined {
  const peeled = peelTags(snapshot.objects, oid);
  return peeled.tags.length > 0 ? peeled.oid : undefined;
}
