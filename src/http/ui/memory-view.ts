/**
 * What the web page shows of one repository, read from one snapshot: the memory at a revision
 * with each block's size over recent history, the commits of a path, and a commit's diff.
 */
import { structuredPatch, type StructuredPatchHunk } from "diff";
import { API_COMMITTER } from "../../blocks/api-write.ts";
import { changedFiles, isRegularFile, type FileVersion } from "../../blocks/changes.ts";
import { countCharacters, fileValue } from "../../blocks/front-matter.ts";
import type { BlockLayout } from "../../blocks/layout.ts";
import { memoryFiles, type MemoryFile } from "../../blocks/memory-file.ts";
import { memoryPolicyOf } from "../../blocks/push-check.ts";
import { commitTreeAndParents, entryAtPath } from "../../git/object/index.ts";
import type { Oid } from "../../git/oid.ts";
import { commitHistory } from "../../git/walk/index.ts";
import { history, resolveRevision, type CommitSummary } from "../../repo/browse.ts";
import type { Snapshot } from "../../repo/snapshot.ts";

/** The size charts span this many of the newest commits: enough to see a trend, bounded work per page. */
export const SIZE_HISTORY_COMMITS = 40;
/** Files larger than this are not diffed: the page stays fast whatever was pushed. */
const MAX_DIFF_BYTES = 512 * 1024;
/** Diffs needing more edits than this are shown as replaced (jsdiff's Myers search is O(N·D)). */
const MAX_DIFF_EDITS = 5000;

export interface BlockView extends MemoryFile {
  /** Characters of the value (what `limit` bounds). */
  characters: number;
  /** Its characters at each of the newest commits, oldest first (0 where it did not exist). */
  sizes: number[];
}

export interface RepositoryMemory {
  /** Undefined for a repository never written (a shared repository exists before its first push). */
  commit?: Oid;
  /** The manifest's generation it was read at: the live update follows events after it. */
  generation: number;
  blocks: BlockView[];
  /** Skills and the other memory files, by path. */
  files: MemoryFile[];
}

export type CommitSource = "git" | "api";

export interface HistoryEntry extends CommitSummary {
  source: CommitSource;
}

export type FileDiff =
  | { path: string; change: "added" | "deleted" | "modified"; kind: "text"; hunks: StructuredPatchHunk[] }
  /** Not text, over MAX_DIFF_BYTES, or over MAX_DIFF_EDITS: named, not shown. */
  | { path: string; change: "added" | "deleted" | "modified"; kind: "not-shown" };

export interface CommitView {
  commit: HistoryEntry;
  files: FileDiff[];
}

/** API writes are committed by stategit itself (blocks/api-write.ts); anything else came by git. */
export function commitSource(commit: CommitSummary): CommitSource {
  return commit.committer.name === API_COMMITTER.name && commit.committer.email === API_COMMITTER.email ? "api" : "git";
}

function treeOf(snapshot: Snapshot, commit: Oid): Oid {
  return commitTreeAndParents(snapshot.objects.readObject(commit)!.data).tree;
}

function blobBytes(snapshot: Snapshot, oid: Oid): Uint8Array {
  const object = snapshot.objects.readObject(oid);
  return object?.type === "blob" ? object.data : new Uint8Array(0);
}

/**
 * The memory at `revision` (undefined when it names no commit; empty at HEAD of a never-written
 * repository), with the size history of each block; a shared repository's is read with its own policy (always v2), as the mirror reads it.
 */
export function repositoryMemory(snapshot: Snapshot, revision: string, blockLayout: BlockLayout): RepositoryMemory | undefined {
  const commit = resolveRevision(snapshot, revision);
  if (commit === undefined) return revision === "HEAD" && snapshot.refs.size === 0 ? { generation: snapshot.manifest.generation, blocks: [], files: [] } : undefined;
  const all = memoryFiles(snapshot.objects, treeOf(snapshot, commit), blockLayout, memoryPolicyOf(snapshot.repo));
  const recent = commitHistory(snapshot.objects, commit, { limit: SIZE_HISTORY_COMMITS }).reverse().map((oid) => treeOf(snapshot, oid));
  const sizeOfBlob = new Map<Oid, number>();
  const charactersAt = (tree: Oid, path: string): number => {
    const entry = entryAtPath(snapshot.objects, tree, path);
    if (!entry || !isRegularFile(entry)) return 0;
    let size = sizeOfBlob.get(entry.oid);
    if (size === undefined) {
      size = countCharacters(fileValue(new TextDecoder().decode(blobBytes(snapshot, entry.oid))));
      sizeOfBlob.set(entry.oid, size);
    }
    return size;
  };
  const blocks = all
    .filter((file) => file.kind === "block")
    .map((file) => ({ ...file, characters: countCharacters(file.value), sizes: recent.map((tree) => charactersAt(tree, file.path)) }));
  return { commit, generation: snapshot.manifest.generation, blocks, files: all.filter((file) => file.kind !== "block") };
}

/** The commits of the default branch that changed `path` (all when undefined), newest first; empty for an unborn branch. */
export function commitLog(snapshot: Snapshot, options: { path?: string; limit: number }): HistoryEntry[] {
  const tip = resolveRevision(snapshot, "HEAD");
  if (tip === undefined) return [];
  return history(snapshot, tip, options).map((commit) => ({ ...commit, source: commitSource(commit) }));
}

function fileText(snapshot: Snapshot, version: FileVersion | undefined): string | undefined {
  if (version === undefined) return "";
  const data = blobBytes(snapshot, version.oid);
  if (data.length > MAX_DIFF_BYTES) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(data);
  } catch {
    return undefined;
  }
}

/** A commit (a full id) with a unified diff per changed file against its first parent; undefined when the repository has no such commit. */
export function commitView(snapshot: Snapshot, id: string): CommitView | undefined {
  const commit = resolveRevision(snapshot, id);
  if (commit === undefined || commit !== id) return undefined;
  const [summary] = history(snapshot, commit, { limit: 1 });
  const parent = summary.parents[0];
  const changes = changedFiles(snapshot.objects, parent === undefined ? undefined : treeOf(snapshot, parent), treeOf(snapshot, commit));
  const files = changes.map((change): FileDiff => {
    const kind = change.old === undefined ? "added" : change.new === undefined ? "deleted" : "modified";
    const before = fileText(snapshot, change.old);
    const after = fileText(snapshot, change.new);
    if (before === undefined || after === undefined) return { path: change.path, change: kind, kind: "not-shown" };
    const patch = structuredPatch(change.path, change.path, before, after, undefined, undefined, { context: 3, maxEditLength: MAX_DIFF_EDITS });
    if (patch === undefined) return { path: change.path, change: kind, kind: "not-shown" };
    return { path: change.path, change: kind, kind: "text", hunks: patch.hunks };
  });
  return { commit: { ...summary, source: commitSource(summary) }, files };
}
