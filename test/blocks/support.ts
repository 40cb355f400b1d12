/** Trees of memory files built with the engine's object writers, for the blocks tests. */
import { defaultCodec } from "../../src/git/codec/index.ts";
import { FileMode, serializeTree, type GitObject, type ObjectReader, type TreeEntry } from "../../src/git/object/index.ts";
import { ObjectDatabase } from "../../src/git/odb/index.ts";
import type { Oid } from "../../src/git/oid.ts";

/** A file's content, or its content and mode (a symlink's content is its target, a submodule's its commit id). */
export type FileSpec = string | Uint8Array | { content: string | Uint8Array; mode: number };
export type Files = Record<string, FileSpec>;

const encoder = new TextEncoder();

function specParts(spec: FileSpec): { data: Uint8Array; mode: number } {
  if (typeof spec === "string") return { data: encoder.encode(spec), mode: FileMode.Regular };
  if (spec instanceof Uint8Array) return { data: spec, mode: FileMode.Regular };
  return { data: typeof spec.content === "string" ? encoder.encode(spec.content) : spec.content, mode: spec.mode };
}

/** Writes `files` (paths with "/") as nested trees into `objects` and returns the root tree's id. */
export function writeTree(objects: ObjectDatabase, files: Files): Oid {
  const entries: TreeEntry[] = [];
  const directories = new Map<string, Files>();
  for (const [path, spec] of Object.entries(files)) {
    const slash = path.indexOf("/");
    if (slash >= 0) {
      const directory = path.slice(0, slash);
      directories.set(directory, { ...directories.get(directory), [path.slice(slash + 1)]: spec });
      continue;
    }
    const { data, mode } = specParts(spec);
    // A submodule's entry names a commit of another repository: its content is that id.
    const oid = mode === FileMode.Gitlink ? new TextDecoder().decode(data) : objects.addObject("blob", data);
    entries.push({ mode, name: encoder.encode(path), oid });
  }
  for (const [name, children] of directories) entries.push({ mode: FileMode.Tree, name: encoder.encode(name), oid: writeTree(objects, children) });
  return objects.addObject("tree", serializeTree(entries));
}

export function newDatabase(): ObjectDatabase {
  return new ObjectDatabase(defaultCodec);
}

/** Two trees in one database: `base`, and `base` with `change` applied (null deletes a path). */
export function treesOf(base: Files, change: Record<string, FileSpec | null>): { objects: ObjectDatabase; oldTree: Oid; newTree: Oid } {
  const objects = newDatabase();
  const next: Files = { ...base };
  for (const [path, spec] of Object.entries(change)) {
    if (spec === null) delete next[path];
    else next[path] = spec;
  }
  return { objects, oldTree: writeTree(objects, base), newTree: writeTree(objects, next) };
}

/** An ObjectReader that counts the objects read through it. */
export class CountingReader implements ObjectReader {
  reads = 0;
  constructor(private readonly inner: ObjectReader) {}
  hasObject(oid: Oid): boolean {
    return this.inner.hasObject(oid);
  }
  readObject(oid: Oid): GitObject | undefined {
    this.reads++;
    return this.inner.readObject(oid);
  }
}

/** A v1 memory file. */
export function v1(description: string, value: string, extra = ""): string {
  return `---\ndescription: ${description}\n${extra}---\n${value}`;
}

/** A v2 memory file. */
export function v2(name: string, description: string, value: string): string {
  return `---\nname: ${name}\ndescription: ${description}\n---\n${value}`;
}
