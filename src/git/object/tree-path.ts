/**
 * Trees by path: the entry at "a/b/c", and a new root with one path set or removed (what
 * `git update-index` + `git write-tree` do for one file), writing only the trees on that path.
 */
import type { Codec } from "../codec/codec.ts";
import { CorruptDataError, GitError, MissingObjectError } from "../errors.ts";
import type { Oid } from "../oid.ts";
import { hashObject, type GitObject, type ObjectReader } from "./object.ts";
import { FileMode, isTreeMode, parseTree, serializeTree, treeEntryName, type TreeEntry } from "./tree.ts";

/** A path cannot be written because one of its directories is a file there (or the path is a directory). */
export class TreePathConflictError extends GitError {
  constructor(readonly path: string, message: string) {
    super("tree.path-conflict", message);
  }
}

/** What a path is set to: a blob (regular, executable, symlink) or a gitlink. */
export interface PathEntry {
  mode: number;
  oid: Oid;
}

export interface TreeEdit {
  /** The new root tree. */
  tree: Oid;
  /** The trees the edit created, to store with the commit (unchanged trees are not repeated). */
  objects: GitObject[];
}

const encoder = new TextEncoder();

function readTree(reader: ObjectReader, oid: Oid): TreeEntry[] {
  const object = reader.readObject(oid);
  if (!object) throw new MissingObjectError(oid);
  if (object.type !== "tree") throw new CorruptDataError("tree.not-tree", `object ${oid} is a ${object.type}, not a tree`);
  return parseTree(object.data);
}

/** The entry at `path` ("a/b.md") under `root`, tree or not; undefined when there is none (or the path is malformed). */
export function entryAtPath(reader: ObjectReader, root: Oid | undefined, path: string): TreeEntry | undefined {
  const segments = path.split("/");
  if (segments.includes("")) return undefined;
  let entry: TreeEntry | undefined = root === undefined ? undefined : { mode: FileMode.Tree, name: new Uint8Array(0), oid: root };
  for (const segment of segments) {
    if (!entry || !isTreeMode(entry.mode)) return undefined;
    entry = readTree(reader, entry.oid).find((candidate) => treeEntryName(candidate) === segment);
  }
  return entry;
}

/**
 * The root tree with `path` set to `entry`, or removed when `entry` is undefined. Missing
 * directories are created; directories left empty by a removal are dropped (git stores no empty
 * trees, except an empty root).
 */
export function editTreePath(reader: ObjectReader, codec: Codec, root: Oid | undefined, path: string, entry: PathEntry | undefined): TreeEdit {
  const objects: GitObject[] = [];
  const edit = (tree: Oid | undefined, segments: readonly string[], walked: string): Oid | undefined => {
    const [name, ...rest] = segments;
    const entries = tree === undefined ? [] : readTree(reader, tree);
    const index = entries.findIndex((candidate) => treeEntryName(candidate) === name);
    const current = index < 0 ? undefined : entries[index];
    const here = walked ? `${walked}/${name}` : name;
    let replacement: PathEntry | undefined;
    if (rest.length === 0) {
      if (current && isTreeMode(current.mode)) throw new TreePathConflictError(path, `${here} is a directory`);
      replacement = entry;
    } else {
      if (current && !isTreeMode(current.mode)) throw new TreePathConflictError(path, `${here} is a file, not a directory`);
      const subtree = edit(current?.oid, rest, here);
      replacement = subtree === undefined ? undefined : { mode: FileMode.Tree, oid: subtree };
    }
    const next = entries.filter((_, i) => i !== index);
    if (replacement) next.push({ mode: replacement.mode, name: encoder.encode(name), oid: replacement.oid });
    if (next.length === 0 && walked !== "") return undefined;
    if (current && replacement && current.oid === replacement.oid && current.mode === replacement.mode) return tree;
    if (!current && !replacement && tree !== undefined) return tree;
    const data = serializeTree(next);
    objects.push({ type: "tree", data });
    return hashObject(codec, "tree", data);
  };
  const segments = path.split("/");
  if (segments.includes("")) throw new TreePathConflictError(path, `invalid path ${JSON.stringify(path)}`);
  const tree = edit(root, segments, "") as Oid;
  return { tree, objects };
}

/** Every non-tree entry under `tree`, recursively, with its path below `prefix`, in git's order. */
export function filesUnder(reader: ObjectReader, tree: Oid, prefix = ""): (PathEntry & { path: string })[] {
  const files: (PathEntry & { path: string })[] = [];
  for (const entry of readTree(reader, tree)) {
    const path = prefix ? `${prefix}/${treeEntryName(entry)}` : treeEntryName(entry);
    if (isTreeMode(entry.mode)) files.push(...filesUnder(reader, entry.oid, path));
    else files.push({ path, mode: entry.mode, oid: entry.oid });
  }
  return files;
}
