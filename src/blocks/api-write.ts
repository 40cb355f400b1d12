/**
 * The JSON API's writes of one block (DESIGN.md, Contract, "Blocks"): a PUT or DELETE becomes one
 * commit on the default branch that changes the file the label maps to in the repository's
 * layout. Everything is planned against one snapshot, so a write that lost a race to another
 * commit is planned again on the new tip (Repositories.write) and never undoes it.
 */
import type { Codec } from "../git/codec/index.ts";
import {
  editTreePath,
  entryAtPath,
  FileMode,
  hashObject,
  isTreeMode,
  serializeCommit,
  withObjects,
  type GitObject,
  type Identity,
  type PathEntry,
  type TreeEntry,
} from "../git/object/index.ts";
import { ZERO_OID, type Oid } from "../git/oid.ts";
import type { RefUpdate } from "../git/refname.ts";
import type { WritePlan } from "../repo/repository.ts";
import type { Snapshot } from "../repo/snapshot.ts";
import { TreeFiles } from "./changes.ts";
import { BlockInputError } from "./errors.ts";
import { blockPath, type MemoryPolicy } from "./layout.ts";
import { memoryFile, treeLayout, writeBlockFile, type BlockUpdate, type MemoryFile } from "./memory-file.ts";
import { commitTree, memoryProblems, type MemoryRulesConfig } from "./push-check.ts";
import { refuses, type Problem } from "./rules/index.ts";

/** Who a commit is by: the request's `author`, or a default the caller chooses. */
export interface Person {
  name: string;
  email: string;
}

export interface BlockWrite {
  label: string;
  /** What to write; undefined deletes the block. */
  update?: BlockUpdate;
  author: Person;
  /** The commit message; a default names the label (`Update human`). */
  message?: string;
  /** `If-Match`: refuse the write when the block changed since this commit. */
  unchangedSince?: Oid;
  /** An `--admin` key may change read-only blocks and the memory configuration. */
  isAdmin: boolean;
}

export type BlockWriteResult =
  /** The commit made; `block` is the written file (undefined after a delete). */
  | { kind: "written"; commit: Oid; block?: MemoryFile; warnings: Problem[] }
  /** The file at the tip `commit` already holds exactly this: no commit. */
  | { kind: "unchanged"; commit: Oid };

/** The block's label names nothing at the tip (a DELETE, or an If-Match of a missing block). */
export class BlockNotFoundError extends BlockInputError {
  constructor(label: string) {
    super("block.not-found", `block ${JSON.stringify(label)} does not exist`);
  }
}

/** `If-Match` failed: the block changed since that commit, or the commit is unknown. */
export class BlockPreconditionError extends BlockInputError {
  constructor(message: string) {
    super("block.precondition", message);
  }
}

/** The memory rules refuse the write (`--block-policy strict`); one problem per rule broken. */
export class MemoryRulesError extends BlockInputError {
  constructor(readonly problems: readonly Problem[]) {
    super("memory.rules", `refused by the memory rules: ${problems.map(({ message }) => message).join("; ")}`);
  }
}

/** The label's file is something else than a regular file (a symlink, a submodule, a directory). */
export class BlockPathConflictError extends BlockInputError {
  constructor(path: string, what: string) {
    super("block.conflict", `${path} is ${what}, not a memory file`);
  }
}

/** Commits the API makes are committed by stategit itself; the author is the caller. */
export const API_COMMITTER: Person = { name: "stategit", email: "stategit@localhost" };
const MAX_IDENTITY_LENGTH = 256;
const MAX_MESSAGE_LENGTH = 64 * 1024;
const encoder = new TextEncoder();

function identity(person: Person, role: string, timestamp: number): Identity {
  for (const [field, value] of Object.entries(person)) {
    if (value.length === 0 || value.length > MAX_IDENTITY_LENGTH || /[<>\u0000-\u001f\u007f]/.test(value) || value.trim() !== value) {
      throw new BlockInputError("body.invalid", `${role}.${field} must be 1-${MAX_IDENTITY_LENGTH} characters without <, >, control characters, or spaces at either end`);
    }
  }
  return { name: encoder.encode(person.name), email: encoder.encode(person.email), timestamp, timezone: "+0000" };
}

function commitMessage(write: BlockWrite, exists: boolean): Uint8Array {
  const message = write.message ?? `${write.update === undefined ? "Delete" : exists ? "Update" : "Create"} ${write.label}`;
  if (message.trim().length === 0 || message.length > MAX_MESSAGE_LENGTH || message.includes("\u0000")) {
    throw new BlockInputError("body.invalid", `message must be non-empty text of at most ${MAX_MESSAGE_LENGTH} characters without NUL`);
  }
  return encoder.encode(message.endsWith("\n") ? message : `${message}\n`);
}

/** Throws BlockPreconditionError unless the entry at `path` is the same at `since` as `current`. */
function checkUnchangedSince(snapshot: Snapshot, since: Oid, path: string, current: TreeEntry | undefined): void {
  const object = snapshot.objects.readObject(since);
  if (object?.type !== "commit") throw new BlockPreconditionError(`If-Match: commit ${since} is not known`);
  const then = entryAtPath(snapshot.objects, commitTree(snapshot.objects, since), path);
  if (then?.oid !== current?.oid || then?.mode !== current?.mode) throw new BlockPreconditionError(`${path} changed since ${since}`);
}

function isRegular(entry: TreeEntry): boolean {
  return entry.mode === FileMode.Regular || entry.mode === FileMode.Executable;
}

/**
 * Plans `write` on `snapshot`: the commit, its objects and the update of the default branch.
 * Throws BlockInputError (label, body, not found, precondition, conflict, rules) without planning
 * anything; under `--block-policy warn` the problems come back as warnings.
 */
export function planBlockWrite(
  snapshot: Snapshot,
  config: MemoryRulesConfig,
  policy: MemoryPolicy,
  codec: Codec,
  write: BlockWrite,
  now = new Date(),
): WritePlan<BlockWriteResult> {
  const { objects } = snapshot;
  const tip = snapshot.refs.get(snapshot.head);
  const tipTree = tip === undefined ? undefined : commitTree(objects, tip);
  const layout = treeLayout(objects, tipTree, config.blockLayout, policy);
  const path = blockPath(layout, write.label);
  const current = entryAtPath(objects, tipTree, path);
  if (current && !isRegular(current)) throw new BlockPathConflictError(path, isTreeMode(current.mode) ? "a directory" : "a symbolic link or submodule");
  if (write.unchangedSince !== undefined) checkUnchangedSince(snapshot, write.unchangedSince, path, current);
  if (!write.update && !current) throw new BlockNotFoundError(write.label);

  const timestamp = Math.floor(now.getTime() / 1000);
  const author = identity(write.author, "author", timestamp);
  const message = commitMessage(write, current !== undefined);
  const added = new Map<Oid, GitObject>();
  const add = (type: GitObject["type"], data: Uint8Array): Oid => {
    const oid = hashObject(codec, type, data);
    added.set(oid, { type, data });
    return oid;
  };

  let entry: PathEntry | undefined;
  if (write.update) {
    const bytes = writeBlockFile(layout, path, current && new TreeFiles(objects, tipTree).bytes(current), write.update);
    entry = { mode: current?.mode ?? FileMode.Regular, oid: add("blob", bytes) };
    if (tip !== undefined && current?.oid === entry.oid) return { updates: [], result: { kind: "unchanged", commit: tip } };
  }
  const edit = editTreePath(withObjects(objects, added), codec, tipTree, path, entry);
  for (const tree of edit.objects) add("tree", tree.data);
  const commit = add(
    "commit",
    serializeCommit({
      tree: edit.tree,
      parents: tip === undefined ? [] : [tip],
      author,
      committer: identity(API_COMMITTER, "committer", timestamp),
      headers: [],
      message,
    }),
  );

  const reader = withObjects(objects, added);
  const update: RefUpdate = { ref: snapshot.head, oldOid: tip ?? ZERO_OID, newOid: commit };
  const problems = memoryProblems(config, policy, reader, snapshot, update, write.isAdmin);
  if (refuses(config.blockPolicy, problems)) throw new MemoryRulesError(problems);
  const files = new TreeFiles(reader, edit.tree);
  const block = entry && memoryFile(treeLayout(reader, edit.tree, config.blockLayout, policy), path, files.bytes(entry), entry.oid, (other) => files.has(other));
  return { updates: [update], objects: [...added.values()], result: { kind: "written", commit, block, warnings: problems } };
}
