/**
 * Step 4 of the memory pipeline: the rows of the SQL mirror. Every `*.md` file of `main`'s tip
 * is a MemoryFile; `mirrorChanges` gives the rows a change adds, replaces and removes.
 */
import type { ObjectReader } from "../git/object/index.ts";
import type { Oid } from "../git/oid.ts";
import { changedFiles, isRegularFile, TreeFiles, type FileChange, type FileVersion } from "./changes.ts";
import { decodeText, frontMatterFields, hookKeyValue, renderFile, splitFrontMatter, updateFile, type FieldUpdate } from "./front-matter.ts";
import { detectLayout, INDEX_FILE, isIndexPath, isMarkdown, kindOf, labelOf, type BlockLayout, type MemoryKind, type MemoryLayout, type MemoryPolicy } from "./layout.ts";
import { limitOf } from "./rules/front-matter.ts";

export interface MemoryFile {
  path: string;
  /** The block label; undefined for skills and other memory files. */
  label?: string;
  kind: MemoryKind;
  /** The text after the front matter (the whole text without front matter, and for indexes and seed files). */
  value: string;
  /** v2 blocks and skills. */
  name?: string;
  description?: string;
  /** v1: present when the front matter has `read_only`; true exactly when Letta's hook protects the file. */
  readOnly?: boolean;
  /** v1: the most characters of the value, when set to a positive integer. */
  limit?: number;
  /** The blob id of the file's content. */
  blob: Oid;
}

function stringField(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}

/** The MemoryFile of the file at `path`; `hasFile` tells which other files the tree holds (v2 indexes). */
export function memoryFile(layout: MemoryLayout, path: string, bytes: Uint8Array, blob: Oid, hasFile: (path: string) => boolean): MemoryFile {
  const text = decodeText(bytes);
  const label = labelOf(layout, path, hasFile);
  const file: MemoryFile = { path, label, kind: kindOf(label, path), value: text, blob };
  const frontMatter = splitFrontMatter(text);
  if (layout === "seed" || (layout === "v2" && isIndexPath(path)) || frontMatter.kind !== "present") return file;
  const fields = frontMatterFields(frontMatter.lines, layout);
  file.value = frontMatter.body;
  file.description = stringField(fields.description);
  if (layout === "v2" || file.kind === "skill") file.name = stringField(fields.name);
  if (layout === "v1" && "read_only" in fields) file.readOnly = hookKeyValue(text, "read_only") === "true";
  if (layout === "v1") file.limit = limitOf(fields.limit);
  return file;
}

/** The mirror's rows for a change: files to write (new or changed) and paths to remove. */
export interface MirrorChanges {
  upserts: MemoryFile[];
  deletes: string[];
}

export interface MirrorInput {
  objects: ObjectReader;
  oldTree: Oid | undefined;
  newTree: Oid | undefined;
  blockLayout?: BlockLayout;
  /** A shared repository's files are read as v2 whether or not it has a root index. */
  policy?: MemoryPolicy;
  /** The changes between the trees, when the caller has them already. */
  changes?: readonly FileChange[];
}

/** Every memory file of a tree (for a full rebuild of the mirror, e.g. `stategit reindex`). */
export function memoryFiles(objects: ObjectReader, tree: Oid | undefined, blockLayout: BlockLayout = "letta", policy: MemoryPolicy = "memfs"): MemoryFile[] {
  return mirrorChanges({ objects, oldTree: undefined, newTree: tree, blockLayout, policy }).upserts;
}

/** Rows are the regular `*.md` files (not symlinks or submodules). */
function isMemoryEntry(path: string, version: FileVersion): boolean {
  return isMarkdown(path) && isRegularFile(version);
}

/**
 * What the mirror must change for `main` going from `oldTree` to `newTree`. Labels depend on more
 * than a file's own content: a switch between v1 and v2 changes every row, and in v2 adding or
 * removing `DIR/MEMORY.md` changes the rows of the files below DIR.
 */
export function mirrorChanges(input: MirrorInput): MirrorChanges {
  const old = new TreeFiles(input.objects, input.oldTree);
  const next = new TreeFiles(input.objects, input.newTree);
  const blockLayout = input.blockLayout ?? "letta";
  const oldLayout = detectLayout(old.has(INDEX_FILE), blockLayout, input.policy);
  const layout = detectLayout(next.has(INDEX_FILE), blockLayout, input.policy);
  const changes =
    oldLayout === layout ? input.changes ?? changedFiles(input.objects, input.oldTree, input.newTree) : changedFiles(input.objects, undefined, input.newTree);

  const deletes = new Set<string>();
  const upserts = new Map<string, FileVersion>();
  for (const change of changes) {
    if (change.new && isMemoryEntry(change.path, change.new)) upserts.set(change.path, change.new);
    else if (change.old && isMemoryEntry(change.path, change.old)) deletes.add(change.path);
  }
  if (oldLayout !== layout) {
    for (const { path, version } of old.files()) if (isMemoryEntry(path, version) && !upserts.has(path)) deletes.add(path);
  } else if (layout === "v2") {
    for (const change of changes) {
      if (!isIndexPath(change.path) || change.path === INDEX_FILE || !change.old === !change.new) continue;
      for (const { path, version } of next.files(change.path.slice(0, -INDEX_FILE.length - 1))) {
        if (isMemoryEntry(path, version)) upserts.set(path, version);
      }
    }
  }
  return {
    upserts: [...upserts].map(([path, version]) => memoryFile(layout, path, next.bytes(version), version.oid, (other) => next.has(other))),
    deletes: [...deletes],
  };
}

/** The layout of `main`'s tree (undefined: a repository without commits, read as v1 in an agent's memory). */
export function treeLayout(objects: ObjectReader, tree: Oid | undefined, blockLayout: BlockLayout = "letta", policy: MemoryPolicy = "memfs"): MemoryLayout {
  return detectLayout(new TreeFiles(objects, tree).has(INDEX_FILE), blockLayout, policy);
}

/** What an API write sets; fields left undefined keep the file's current values. */
export interface BlockUpdate {
  value: string;
  name?: string;
  description?: string;
  readOnly?: boolean;
  limit?: number;
}

/** Letta Code's defaultMemoryName: "project/tool-notes" → "Tool Notes". */
function defaultName(label: string): string {
  const words = (label.split("/").pop() ?? "").split(/[-_]+/).filter(Boolean);
  return words.map((word) => `${word[0].toUpperCase()}${word.slice(1)}`).join(" ") || "Memory";
}

/**
 * The bytes an API write of a block leaves at `path` (from blockPath), given the file there now.
 * Indexes and seed files are all value; other files keep their front matter byte for byte when
 * only the value changes. A new v2 block without a name gets Letta Code's default one.
 */
export function writeBlockFile(layout: MemoryLayout, path: string, current: Uint8Array | undefined, update: BlockUpdate): Uint8Array {
  if (layout === "seed" || (layout === "v2" && isIndexPath(path))) return new TextEncoder().encode(update.value);
  const fields: FieldUpdate =
    layout === "v2"
      ? { name: update.name ?? (current ? undefined : defaultName(path.slice(0, -".md".length))), description: update.description }
      : { description: update.description, read_only: update.readOnly, limit: update.limit };
  const defined = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  return current ? updateFile(current, defined, update.value) : renderFile(defined, update.value);
}
