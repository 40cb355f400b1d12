/**
 * Step 1 of the memory pipeline: the files a push (or an API write) changes, between the tree of
 * `main`'s old tip and the new one. Subtrees with the same id on both sides are skipped without
 * being read, so a change to 1 file of 200 reads the trees on its path and nothing else.
 */
import { CorruptDataError, MissingObjectError } from "../git/errors.ts";
import { compareTreeEntries, FileMode, isTreeMode, parseTree, treeEntryName, type ObjectReader, type TreeEntry } from "../git/object/index.ts";
import type { Oid } from "../git/oid.ts";

/** A non-tree entry: a blob (regular, executable, symlink) or a gitlink. */
export interface FileVersion {
  readonly mode: number;
  readonly oid: Oid;
}

/** A regular file, executable or not (git's modes 100644, 100755, 100664), as the hook tests it: its mode starts with "100". */
export function isRegularFile(version: FileVersion): boolean {
  return version.mode.toString(8).startsWith("100");
}

/** A submodule's commit: it names no object of this repository, so it has no content to read. */
export function isSubmodule(version: FileVersion): boolean {
  return version.mode === FileMode.Gitlink;
}

/** One path whose entry differs: absent `old` is an addition, absent `new` a deletion. */
export interface FileChange {
  readonly path: string;
  readonly old?: FileVersion;
  readonly new?: FileVersion;
}

function readTreeEntries(objects: ObjectReader, oid: Oid): TreeEntry[] {
  const object = objects.readObject(oid);
  if (!object) throw new MissingObjectError(oid);
  if (object.type !== "tree") throw new CorruptDataError("blocks.tree", `object ${oid} is a ${object.type}, not a tree`);
  return parseTree(object.data);
}

function readBlob(objects: ObjectReader, oid: Oid): Uint8Array {
  const object = objects.readObject(oid);
  if (!object) throw new MissingObjectError(oid);
  if (object.type !== "blob") throw new CorruptDataError("blocks.blob", `object ${oid} is a ${object.type}, not a blob`);
  return object.data;
}

function joinPath(directory: string, entry: TreeEntry): string {
  const name = treeEntryName(entry);
  return directory ? `${directory}/${name}` : name;
}

function version(entry: TreeEntry): FileVersion {
  return { mode: entry.mode, oid: entry.oid };
}

/** Diffs remembered (see changedFiles), and the most changes a remembered one may hold. */
const REMEMBERED_DIFFS = 8;
const MAX_REMEMBERED_CHANGES = 10_000;
const rememberedDiffs = new Map<string, readonly FileChange[]>();

/**
 * The changed files between two trees (either may be absent: no tree, no files), sorted by path.
 * A push asks three times for the same pair (the rules, the mirror, the change event), so the
 * last few diffs are remembered: trees are named by their content, so a pair's diff never changes.
 */
export function changedFiles(objects: ObjectReader, oldTree: Oid | undefined, newTree: Oid | undefined): readonly FileChange[] {
  const key = `${oldTree}:${newTree}`;
  const remembered = rememberedDiffs.get(key);
  if (remembered) return remembered;
  const changes = diffTrees(objects, oldTree, newTree);
  if (changes.length <= MAX_REMEMBERED_CHANGES) {
    if (rememberedDiffs.size >= REMEMBERED_DIFFS) rememberedDiffs.delete(rememberedDiffs.keys().next().value!);
    rememberedDiffs.set(key, changes);
  }
  return changes;
}

function diffTrees(objects: ObjectReader, oldTree: Oid | undefined, newTree: Oid | undefined): FileChange[] {
  const changes: FileChange[] = [];
  const pending: { directory: string; old?: Oid; new?: Oid }[] = [{ directory: "", old: oldTree, new: newTree }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { directory } = next;
    if (next.old === next.new) continue;
    const olds = next.old === undefined ? [] : readTreeEntries(objects, next.old);
    const news = next.new === undefined ? [] : readTreeEntries(objects, next.new);
    // Both lists are in git's tree order, in which a file and a directory of the same name differ.
    let i = 0;
    let j = 0;
    while (i < olds.length || j < news.length) {
      const order = i === olds.length ? 1 : j === news.length ? -1 : compareTreeEntries(olds[i], news[j]);
      const before = order <= 0 ? olds[i++] : undefined;
      const after = order >= 0 ? news[j++] : undefined;
      const entry = (before ?? after) as TreeEntry;
      if (before && after && before.oid === after.oid && before.mode === after.mode) continue;
      const path = joinPath(directory, entry);
      if (isTreeMode(entry.mode)) {
        pending.push({ directory: path, old: before?.oid, new: after?.oid });
      } else {
        changes.push({ path, old: before && version(before), new: after && version(after) });
      }
    }
  }
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Random access to the files of one tree by path, reading each subtree once. What the rules need
 * beyond the changes: whether an index exists, the config, the other root files.
 */
export class TreeFiles {
  private readonly trees = new Map<Oid, Map<string, TreeEntry>>();

  constructor(
    readonly objects: ObjectReader,
    /** Undefined for a branch that does not exist yet: no files. */
    readonly root: Oid | undefined,
  ) {}

  private entries(oid: Oid): Map<string, TreeEntry> {
    let entries = this.trees.get(oid);
    if (!entries) {
      entries = new Map(readTreeEntries(this.objects, oid).map((entry) => [treeEntryName(entry), entry]));
      this.trees.set(oid, entries);
    }
    return entries;
  }

  /** The tree at `directory` ("" is the root), or undefined when there is none. */
  private treeAt(directory: string): Oid | undefined {
    let oid = this.root;
    for (const name of directory ? directory.split("/") : []) {
      if (oid === undefined) return undefined;
      const entry = this.entries(oid).get(name);
      oid = entry && isTreeMode(entry.mode) ? entry.oid : undefined;
    }
    return oid;
  }

  /** The non-tree entry at `path`, or undefined. */
  file(path: string): FileVersion | undefined {
    const slash = path.lastIndexOf("/");
    const tree = this.treeAt(slash < 0 ? "" : path.slice(0, slash));
    const entry = tree === undefined ? undefined : this.entries(tree).get(path.slice(slash + 1));
    return entry && !isTreeMode(entry.mode) ? version(entry) : undefined;
  }

  has(path: string): boolean {
    return this.file(path) !== undefined;
  }

  /** Every file under `directory` ("" for the whole tree), with its path. */
  files(directory = ""): { path: string; version: FileVersion }[] {
    const root = this.treeAt(directory);
    return root === undefined ? [] : changedFiles(this.objects, undefined, root).map((change) => ({
      path: directory ? `${directory}/${change.path}` : change.path,
      version: change.new as FileVersion,
    }));
  }

  /** The files directly in `directory`, without descending. */
  filesIn(directory: string): { path: string; version: FileVersion }[] {
    const tree = this.treeAt(directory);
    if (tree === undefined) return [];
    return [...this.entries(tree).values()]
      .filter((entry) => !isTreeMode(entry.mode))
      .map((entry) => ({ path: joinPath(directory, entry), version: version(entry) }));
  }

  bytes(file: FileVersion): Uint8Array {
    return readBlob(this.objects, file.oid);
  }
}
