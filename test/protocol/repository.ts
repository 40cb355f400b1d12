import type { GitObject, ObjectReader } from "../../src/git/object/object.ts";
import { parseObjectType } from "../../src/git/object/object.ts";
import type { Oid } from "../../src/git/oid.ts";
import type { RepositorySnapshot } from "../../src/protocol/snapshot.ts";
import { git, gitText } from "../support/git.ts";

/** Every object of a git repository, read with `git cat-file --batch-all-objects`, in a Map. */
export function readAllObjects(dir: string): Map<Oid, GitObject> {
  const output = git(["cat-file", "--batch-all-objects", "--batch", "--unordered"], { cwd: dir }).stdout;
  const objects = new Map<Oid, GitObject>();
  const decoder = new TextDecoder();
  let offset = 0;
  while (offset < output.length) {
    const headerEnd = output.indexOf(0x0a, offset);
    const [oid, type, size] = decoder.decode(output.subarray(offset, headerEnd)).split(" ");
    const start = headerEnd + 1;
    objects.set(oid, { type: parseObjectType(type), data: output.slice(start, start + Number(size)) });
    offset = start + Number(size) + 1;
  }
  return objects;
}

export function mapReader(objects: ReadonlyMap<Oid, GitObject>): ObjectReader {
  return { hasObject: (oid) => objects.has(oid), readObject: (oid) => objects.get(oid) };
}

/** The refs and HEAD of a git repository. */
export function readRefs(dir: string): { head?: string; refs: Map<string, Oid> } {
  const refs = new Map<string, Oid>();
  for (const line of gitText(["for-each-ref", "--format=%(objectname) %(refname)"], { cwd: dir }).split("\n")) {
    if (line === "") continue;
    const [oid, name] = line.split(" ");
    refs.set(name, oid);
  }
  const head = gitText(["symbolic-ref", "-q", "HEAD"], { cwd: dir, allowFailure: true });
  return { head: head === "" ? undefined : head, refs };
}

/** A snapshot of a git repository with its objects held in memory. */
export function snapshotOf(dir: string): RepositorySnapshot {
  return { ...readRefs(dir), objects: mapReader(readAllObjects(dir)) };
}
