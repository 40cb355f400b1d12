import { defaultCodec, type Codec } from "../git/codec/index.ts";
import { GitError, LimitExceededError } from "../git/errors.ts";
import type { RefFileValue } from "../git/gitdir/index.ts";
import type { ObjectReader } from "../git/object/object.ts";
import { ZERO_OID, type Oid } from "../git/oid.ts";
import { buildPack } from "../git/pack/output/index.ts";
import { DEFAULT_PACK_LIMITS, type PackLimits } from "../git/pack/types.ts";
import type { RefUpdate } from "../git/refname.ts";
import { findMissing, listObjects } from "../git/walk/index.ts";
import { DEFAULT_HEAD } from "../db/manifests.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { checkConnectivity, discoverSources, SourceReader, type SkippedRef, type SourceFilter, type SourceRepository } from "./import-source.ts";
import type { Repositories } from "./repository.ts";
import type { Snapshot } from "./snapshot.ts";

/**
 * `stategit import`: converts the previous service's repositories (`.git` directories in a blob
 * store, see import-source.ts) into stategit's layout, one push transaction per repository, so
 * an interrupted import leaves each repository either done or untouched, and running it again
 * continues. A repository already imported is compared ref by ref: equal refs are left alone,
 * different ones are moved to the source's values.
 */

/**
 * The push limits of an import. An old repository may hold more objects and inflated bytes than
 * one push may bring (DEFAULT_PACK_LIMITS), so those two are raised; memory is what bounds an
 * import. The size of one object and the delta depth stay as they are: a stored pack is read
 * with the default limits later, so an object beyond them would be unreadable once imported.
 */
export const IMPORT_LIMITS: PackLimits = {
  ...DEFAULT_PACK_LIMITS,
  maxObjectCount: 100_000_000,
  maxInflatedBytes: 1024 * 1024 * 1024 * 1024,
};

/**
 * The largest source repository read, by the size of its files: it is held in memory (packs as
 * stored, loose objects inflated) beside the pack built from it, several times its size in all.
 */
export const DEFAULT_MAX_REPOSITORY_BYTES = 512 * 1024 * 1024;

export type ImportOutcome = "imported" | "updated" | "up to date" | "nothing to import" | "failed" | "skipped";

export interface RepositoryReport {
  /** `org/agent`. */
  id: string;
  outcome: ImportOutcome;
  /** Refs created or moved. */
  refs: number;
  /** Objects in the pack written. */
  objects: number;
  /** Why the repository failed or was skipped. */
  reason?: string;
  skippedRefs: SkippedRef[];
  notes: string[];
}

export interface ImportOptions extends SourceFilter {
  codec?: Codec;
  limits?: PackLimits;
  /** Source repositories whose files are larger fail without being read (DEFAULT_MAX_REPOSITORY_BYTES). */
  maxRepositoryBytes?: number;
  /** Called once the source's repositories are found, with their number. */
  onFound?: (count: number) => void;
  /** Called with each repository's report as soon as it is done. */
  onReport?: (report: RepositoryReport) => void;
}

/** Imports every repository of `source` (or those `options` names) into `repositories`, in order of id. */
export async function importRepositories(source: BlobStore, repositories: Repositories, options: ImportOptions = {}): Promise<RepositoryReport[]> {
  const reports: RepositoryReport[] = [];
  const sources = await discoverSources(source, options);
  options.onFound?.(sources.length);
  for (const found of sources) {
    const report =
      found.kind === "invalid"
        ? { id: found.id, outcome: "skipped" as const, refs: 0, objects: 0, reason: found.reason, skippedRefs: [], notes: [] }
        : await importRepository(source, found.repository, repositories, options);
    reports.push(report);
    options.onReport?.(report);
  }
  return reports;
}

async function importRepository(store: BlobStore, source: SourceRepository, repositories: Repositories, options: ImportOptions): Promise<RepositoryReport> {
  const report: RepositoryReport = { id: `${source.org}/${source.agent}`, outcome: "failed", refs: 0, objects: 0, skippedRefs: [], notes: [] };
  try {
    const codec = options.codec ?? defaultCodec;
    const limits = options.limits ?? IMPORT_LIMITS;
    const reader = new SourceReader(store, source);
    const { head, refs, skippedRefs, notes } = await reader.refs();
    report.skippedRefs.push(...skippedRefs);
    report.notes.push(...notes, ...headNotes(head));
    const before = await repositories.snapshot(source.org, source.agent);
    const kept = [...before.refs.keys()].filter((ref) => !refs.has(ref)).length;
    if (kept > 0) report.notes.push(`${kept} ref(s) of the destination that the source lacks are kept`);
    // Nothing to read beyond the refs when the destination has every one of them already.
    if (refs.size > 0 && [...refs].every(([ref, oid]) => before.refs.get(ref) === oid)) return upToDate(report, before);
    const maxBytes = options.maxRepositoryBytes ?? DEFAULT_MAX_REPOSITORY_BYTES;
    if (source.bytes > maxBytes) {
      throw new LimitExceededError("import.repository-size", `its files hold ${source.bytes} bytes, more than the ${maxBytes} an import reads into memory`);
    }
    const objects = await reader.objects(codec, limits, report.notes);
    const { complete, incomplete } = checkConnectivity(refs, objects);
    report.skippedRefs.push(...incomplete);
    if (complete.size === 0) {
      report.outcome = "nothing to import";
      return report;
    }
    const updates: RefUpdate[] = [...complete]
      .filter(([ref, oid]) => before.refs.get(ref) !== oid)
      .map(([ref, newOid]) => ({ ref, oldOid: before.refs.get(ref) ?? ZERO_OID, newOid }));
    if (updates.length === 0) return upToDate(report, before);
    const specs = listObjects({ reader: eitherReader(objects, before.objects), include: updates.map(({ newOid }) => newOid), exclude: [...before.refs.values()] });
    const pack = specs.length > 0 ? await buildPack({ specs, source: objects }, { codec }) : undefined;
    const result = await repositories.push(source.org, source.agent, { updates, pack, allowForcePush: true, limits });
    if (result.unpackError !== undefined) throw new Error(`the objects were refused: ${result.unpackError}`);
    report.notes.push(...result.messages);
    for (const status of result.statuses) if (!status.ok) report.skippedRefs.push({ name: status.ref, reason: status.reason });
    if (!result.committed) {
      report.outcome = "nothing to import";
      return report;
    }
    verifyConnected(result.committed);
    report.refs = result.statuses.filter((status) => status.ok).length;
    report.objects = specs.length;
    report.outcome = before.manifest.generation === 0 ? "imported" : "updated";
  } catch (error) {
    report.outcome = "failed";
    report.reason = error instanceof Error ? error.message : String(error);
  }
  return report;
}

/** A repository whose refs are all imported: checked, and reported as such. */
function upToDate(report: RepositoryReport, snapshot: Snapshot): RepositoryReport {
  verifyConnected(snapshot);
  report.outcome = "up to date";
  return report;
}

/** What becomes of the source's HEAD: stategit's is always refs/heads/main. */
function headNotes(head: RefFileValue | undefined): string[] {
  if (!head) return [];
  if (head.kind === "direct") return [`HEAD is detached at ${head.oid}: not imported (stategit's HEAD is ${DEFAULT_HEAD})`];
  if (head.target !== DEFAULT_HEAD) return [`HEAD is ${head.target}: stategit's HEAD is ${DEFAULT_HEAD}`];
  return [];
}

/** Objects from `first`, else from `second`: the source's new objects beside the destination's. */
function eitherReader(first: ObjectReader, second: ObjectReader): ObjectReader {
  return {
    hasObject: (oid) => first.hasObject(oid) || second.hasObject(oid),
    readObject: (oid) => first.readObject(oid) ?? second.readObject(oid),
  };
}

/** The import's own check of the stored repository: every object reachable from every ref is there. */
function verifyConnected(snapshot: Snapshot): void {
  const missing: Oid[] = findMissing(snapshot.objects, [...snapshot.refs.values()], []);
  if (missing.length > 0) throw new GitError("import.verify", `the stored repository lacks object ${missing[0]} after the import`);
}
