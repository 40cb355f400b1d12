import type { BlockLayout, MemoryKind } from "../blocks/layout.ts";
import { mirrorChanges, type MemoryFile } from "../blocks/memory-file.ts";
import { commitTree, memoryPolicyOf } from "../blocks/push-check.ts";
import { ZERO_OID, type Oid } from "../git/oid.ts";
import type { TransactionWork } from "../repo/repository.ts";
import { toDate, type SqlClient } from "./adapter.ts";
import { manifestFromJson } from "./manifests.ts";

/** A row of the SQL mirror: one memory file of `main`'s tip, with the commit it was read from. */
export interface MirroredFile extends MemoryFile {
  commit: Oid;
  generation: number;
  updatedAt: Date;
}

/** What a change of `main` does to the mirror: files written (new or changed) and paths removed. */
export interface MirrorUpdate {
  upserts: readonly MemoryFile[];
  deletes: readonly string[];
}

/** The mirror of a repository's default branch, with the manifest it was written with. */
export interface MirroredTip {
  generation: number;
  commit?: Oid;
  files: MirroredFile[];
}

/** One agent of an organisation as its overview shows it, from the mirror of its `main`. */
export interface AgentSummary {
  agent: string;
  /** When its memory last changed (a mirrored file was written); undefined before its first write. */
  lastChange?: Date;
  blocks: number;
  /** Characters (code points) of every memory file's value. */
  characters: number;
}

/** What a rebuild of one repository's rows changed, by path. */
export interface MirrorRepair {
  added: string[];
  changed: string[];
  removed: string[];
}

const MEMORY_FILE_FIELDS = ["label", "kind", "value", "name", "description", "readOnly", "limit", "blob"] as const;

function sameFile(row: MemoryFile, file: MemoryFile): boolean {
  return MEMORY_FILE_FIELDS.every((field) => row[field] === file[field]);
}

export interface SearchHit {
  repo: string;
  path: string;
  label?: string;
  kind: MemoryKind;
  description?: string;
  /** Text around the matches, without markup; `highlights` are the matched [start, end) ranges in it (UTF-16 offsets). */
  snippet: string;
  highlights: [number, number][];
  commit: Oid;
}

export interface SearchOptions {
  /** Only these repositories (an agent's own and those attached to it). */
  repos?: readonly string[];
  limit: number;
}

interface FileColumns {
  path: string;
  label: string | null;
  kind: MemoryKind;
  value: string;
  name: string | null;
  description: string | null;
  read_only: boolean | number | null;
  value_limit: number | null;
  blob: string;
  commit_id: string;
  generation: number | string;
  updated_at: unknown;
}

// Control characters never appear in the snippet's source text (the mirror stores text as read,
// and these are stripped from snippets), so they can mark matches unambiguously.
const MATCH_START = "\u0002";
const MATCH_END = "\u0003";
const SNIPPET_WORDS = 16;

const optional = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

function fromColumns(row: FileColumns): MirroredFile {
  const file: MirroredFile = {
    path: row.path,
    kind: row.kind,
    value: row.value,
    blob: row.blob,
    commit: row.commit_id,
    generation: Number(row.generation),
    updatedAt: toDate(row.updated_at),
  };
  if (row.label !== null) file.label = row.label;
  if (row.name !== null) file.name = row.name;
  if (row.description !== null) file.description = row.description;
  if (row.read_only !== null) file.readOnly = Boolean(row.read_only);
  if (row.value_limit !== null) file.limit = Number(row.value_limit);
  return file;
}

/** The words of a query, for both dialects' AND of terms (FTS5 needs each quoted). */
function queryTerms(text: string): string[] {
  return text.match(/[\p{L}\p{N}_]+/gu) ?? [];
}

/** Splits a snippet with MATCH_START/MATCH_END marks into plain text and ranges. */
function parseSnippet(marked: string): { snippet: string; highlights: [number, number][] } {
  let snippet = "";
  const highlights: [number, number][] = [];
  let start = -1;
  for (const char of marked.replace(/[\u0000\u0001\u0004-\u0008]/g, "")) {
    if (char === MATCH_START) start = snippet.length;
    else if (char === MATCH_END && start >= 0) {
      highlights.push([start, snippet.length]);
      start = -1;
    } else snippet += char;
  }
  return { snippet, highlights };
}

/**
 * The SQL mirror of memory files (DESIGN.md, Contract, "Blocks"): written only inside the
 * transaction that commits a manifest row (`apply`, `replace`), so it never shows a state the
 * refs do not have, and is never behind once a write has answered.
 */
export class MemoryMirror {
  constructor(private readonly db: SqlClient) {}

  /** Writes one change of `repo`'s `main` in the caller's transaction. */
  async apply(tx: SqlClient, org: string, repo: string, update: MirrorUpdate, commit: Oid, generation: number): Promise<void> {
    for (const path of update.deletes) await tx.execute("DELETE FROM memory_files WHERE org = $1 AND repo = $2 AND path = $3", [org, repo, path]);
    const now = new Date().toISOString();
    for (const file of update.upserts) {
      await tx.execute(
        `INSERT INTO memory_files (org, repo, path, label, kind, value, name, description, read_only, value_limit, blob, commit_id, generation, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (org, repo, path) DO UPDATE SET label = $4, kind = $5, value = $6, name = $7, description = $8, read_only = $9,
           value_limit = $10, blob = $11, commit_id = $12, generation = $13, updated_at = $14`,
        [
          org,
          repo,
          file.path,
          file.label ?? null,
          file.kind,
          file.value,
          file.name ?? null,
          file.description ?? null,
          file.readOnly ?? null,
          file.limit ?? null,
          file.blob,
          commit,
          generation,
          now,
        ],
      );
    }
  }

  /** Replaces every row of `repo` (a rebuild: `stategit reindex`, a layout switch). */
  async replace(tx: SqlClient, org: string, repo: string, files: readonly MemoryFile[], commit: Oid | undefined, generation: number): Promise<void> {
    await tx.execute("DELETE FROM memory_files WHERE org = $1 AND repo = $2", [org, repo]);
    if (commit !== undefined) await this.apply(tx, org, repo, { upserts: files, deletes: [] }, commit, generation);
  }

  /**
   * Makes the rows of `repo` equal `files`, the memory files of main's tip `commit` at manifest
   * `generation` (a rebuild after an import, a layout change or damage): only the rows that differ
   * are written, with that commit. Run it in a transaction that holds the manifest row.
   */
  async reconcile(tx: SqlClient, org: string, repo: string, files: readonly MemoryFile[], commit: Oid | undefined, generation: number): Promise<MirrorRepair> {
    const rows = new Map((await this.files(org, repo, tx)).map((row) => [row.path, row]));
    const repair: MirrorRepair = { added: [], changed: [], removed: [] };
    const upserts: MemoryFile[] = [];
    for (const file of files) {
      const row = rows.get(file.path);
      rows.delete(file.path);
      if (row && sameFile(row, file)) continue;
      (row ? repair.changed : repair.added).push(file.path);
      upserts.push(file);
    }
    repair.removed.push(...rows.keys());
    // Without a commit there are no files, so nothing is written with the zero id.
    if (upserts.length > 0 || repair.removed.length > 0) await this.apply(tx, org, repo, { upserts, deletes: repair.removed }, commit ?? ZERO_OID, generation);
    return repair;
  }

  /** Every mirrored file of `repo`, by path. */
  async files(org: string, repo: string, client: SqlClient = this.db): Promise<MirroredFile[]> {
    const rows = await client.query<FileColumns>(
      `SELECT path, label, kind, value, name, description, read_only, value_limit, blob, commit_id, generation, updated_at
       FROM memory_files WHERE org = $1 AND repo = $2 ORDER BY path`,
      [org, repo],
    );
    return rows.map(fromColumns);
  }

  /**
   * Every mirrored file of `repo` with the manifest they belong to, read in one statement so that
   * both are of the same commit: `commit` is the default branch's tip (undefined when unborn),
   * `generation` the manifest's (0 for a never-written repository).
   */
  async tip(org: string, repo: string): Promise<MirroredTip> {
    const rows = await this.db.query<Partial<FileColumns> & { manifest_generation: number | string; head: string; refs: string }>(
      `SELECT m.generation AS manifest_generation, m.head, m.refs, f.path, f.label, f.kind, f.value, f.name, f.description, f.read_only,
         f.value_limit, f.blob, f.commit_id, f.generation, f.updated_at
       FROM manifests m LEFT JOIN memory_files f ON f.org = m.org AND f.repo = m.repo
       WHERE m.org = $1 AND m.repo = $2 ORDER BY f.path`,
      [org, repo],
    );
    if (rows.length === 0) return { generation: 0, files: [] };
    const { manifest_generation, head, refs } = rows[0];
    const manifest = manifestFromJson(Number(manifest_generation), head, JSON.parse(refs), []);
    const files = rows.filter((row) => row.path != null).map((row) => fromColumns(row as FileColumns));
    return { generation: manifest.generation, commit: manifest.refs.get(manifest.head), files };
  }

  /** Every agent of the organisation, by id, with the size of its memory: one statement over the agents and the mirror. */
  async agentSummaries(org: string): Promise<AgentSummary[]> {
    // LENGTH counts characters on both dialects (code points in SQLite's text, characters in PostgreSQL's).
    const rows = await this.db.query<{ agent_id: string; last_change: unknown; blocks: number | string; characters: number | string | null }>(
      `SELECT a.agent_id, MAX(f.updated_at) AS last_change, SUM(CASE WHEN f.kind = 'block' THEN 1 ELSE 0 END) AS blocks,
         SUM(LENGTH(f.value)) AS characters
       FROM agents a LEFT JOIN memory_files f ON f.org = a.org AND f.repo = a.agent_id
       WHERE a.org = $1 GROUP BY a.agent_id ORDER BY a.agent_id`,
      [org],
    );
    return rows.map((row) => {
      const summary: AgentSummary = { agent: row.agent_id, blocks: Number(row.blocks ?? 0), characters: Number(row.characters ?? 0) };
      if (row.last_change !== null) summary.lastChange = toDate(row.last_change);
      return summary;
    });
  }

  /** Memory files of the organisation that contain every word of `text`, best first, with a highlighted snippet. */
  async search(org: string, text: string, options: SearchOptions): Promise<SearchHit[]> {
    const terms = queryTerms(text);
    if (terms.length === 0 || options.repos?.length === 0) return [];
    const repos = options.repos ?? [];
    return this.db.dialect === "sqlite" ? this.searchSqlite(org, terms, repos, options.limit) : this.searchPostgres(org, terms, repos, options.limit);
  }

  private async searchSqlite(org: string, terms: string[], repos: readonly string[], limit: number): Promise<SearchHit[]> {
    const match = terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(" ");
    // Within a few repositories, their rows are read first (CROSS JOIN fixes SQLite's join order)
    // and each is matched by rowid: measured 13x faster than matching the whole organisation's
    // index and filtering after, on 10,000 agents x 20 blocks.
    const from =
      repos.length > 0
        ? `memory_files f CROSS JOIN memory_search ON memory_search.rowid = f.rowid
           WHERE f.org = $2 AND f.repo IN (${repos.map((_, i) => `$${i + 4}`).join(", ")}) AND memory_search MATCH $1`
        : "memory_search JOIN memory_files f ON f.rowid = memory_search.rowid WHERE memory_search MATCH $1 AND f.org = $2";
    // bm25 weights follow the PostgreSQL vector's: label above description above value.
    const rows = await this.db.query<FileColumns & { repo: string; marked: string }>(
      `SELECT f.repo, f.path, f.label, f.kind, f.description, f.commit_id,
         snippet(memory_search, 2, '${MATCH_START}', '${MATCH_END}', '…', ${SNIPPET_WORDS}) AS marked
       FROM ${from}
       ORDER BY bm25(memory_search, 10.0, 4.0, 1.0) LIMIT $3`,
      [match, org, limit, ...repos],
    );
    return rows.map((row) => this.hit(row, row.marked));
  }

  private async searchPostgres(org: string, terms: string[], repos: readonly string[], limit: number): Promise<SearchHit[]> {
    const inRepos = repos.length > 0 ? `AND repo = ANY($4::text[])` : "";
    const rows = await this.db.query<FileColumns & { repo: string; marked: string }>(
      `SELECT repo, path, label, kind, description, commit_id,
         ts_headline('simple', value, query, 'StartSel=${MATCH_START}, StopSel=${MATCH_END}, MaxWords=${SNIPPET_WORDS}, MinWords=4, MaxFragments=1, FragmentDelimiter=…') AS marked
       FROM memory_files, plainto_tsquery('simple', $1) AS query
       WHERE org = $2 AND search @@ query ${inRepos}
       ORDER BY ts_rank(search, query) DESC, repo, path LIMIT $3`,
      repos.length > 0 ? [terms.join(" "), org, limit, `{${repos.map((repo) => `"${repo}"`).join(",")}}`] : [terms.join(" "), org, limit],
    );
    return rows.map((row) => this.hit(row, row.marked));
  }

  private hit(row: FileColumns & { repo: string }, marked: string): SearchHit {
    const hit: SearchHit = { repo: row.repo, path: row.path, kind: row.kind, ...parseSnippet(marked), commit: row.commit_id };
    const label = optional(row.label);
    const description = optional(row.description);
    if (label !== undefined) hit.label = label;
    if (description !== undefined) hit.description = description;
    return hit;
  }
}

/**
 * The mirror's part of every commit that changes a repository's default branch: the rows of the
 * files that changed, written in the commit's own transaction.
 */
export function mirrorInTransaction(mirror: MemoryMirror, blockLayout: BlockLayout): TransactionWork {
  return ({ org, repo, before, objects, updates, generation }) => {
    const update = updates.find(({ ref }) => ref === before.head);
    if (!update) return undefined;
    if (update.newOid === ZERO_OID) return (tx) => mirror.replace(tx, org, repo, [], undefined, generation);
    const changes = mirrorChanges({
      objects,
      oldTree: commitTree(objects, before.refs.get(update.ref) ?? ZERO_OID),
      newTree: commitTree(objects, update.newOid),
      blockLayout,
      policy: memoryPolicyOf(repo),
    });
    if (changes.upserts.length === 0 && changes.deletes.length === 0) return undefined;
    return (tx) => mirror.apply(tx, org, repo, changes, update.newOid, generation);
  };
}
