import type { Oid } from "../oid.ts";

/**
 * What a file of a `.git` directory is, by its path relative to the directory
 * (gitrepository-layout(5)). Only the files that hold refs and objects are told apart; the rest
 * (config, hooks, logs, index, pack .idx/.keep/.rev files, ...) is `other`.
 */
export type GitDirFile =
  | { kind: "head" }
  | { kind: "packed-refs" }
  /** A file under refs/: `name` is its path, which may not be a valid ref name. */
  | { kind: "loose-ref"; name: string }
  | { kind: "loose-object"; oid: Oid }
  /** `objects/pack/pack-{checksum}.pack`; its .idx is not needed (packs are indexed afresh). */
  | { kind: "pack"; name: string }
  /** Objects the repository borrows from another: they are not copied with it. */
  | { kind: "alternates" }
  /** The repository is shallow: history below its boundary commits is absent. */
  | { kind: "shallow" }
  | { kind: "other" };

const LOOSE_OBJECT = /^objects\/([0-9a-f]{2})\/([0-9a-f]{38})$/;
const PACK = /^objects\/pack\/(pack-[0-9a-f]{40})\.pack$/;

export function classifyGitDirFile(path: string): GitDirFile {
  if (path === "HEAD") return { kind: "head" };
  if (path === "packed-refs") return { kind: "packed-refs" };
  if (path === "shallow") return { kind: "shallow" };
  if (path === "objects/info/alternates") return { kind: "alternates" };
  // Object stores list "directories" as empty keys ending in "/" when a tool created them.
  if (path.startsWith("refs/") && !path.endsWith("/")) return { kind: "loose-ref", name: path };
  const loose = LOOSE_OBJECT.exec(path);
  if (loose) return { kind: "loose-object", oid: loose[1] + loose[2] };
  const pack = PACK.exec(path);
  if (pack) return { kind: "pack", name: pack[1] };
  return { kind: "other" };
}
