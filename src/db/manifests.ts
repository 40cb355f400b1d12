import { CorruptDataError } from "../git/errors.ts";
import { isOid, ZERO_OID, type Oid } from "../git/oid.ts";
import { isUpdatableRefName } from "../git/refname.ts";
import type { SqlAdapter, SqlClient } from "./adapter.ts";

/**
 * A repository's manifest: its refs, HEAD's symbolic target and its live packs (DESIGN.md, "Where
 * things live"). It is one database row; replacing it by a conditional update is the commit point
 * of every write. `generation` counts those replacements: 0 is a never-written repository (no
 * row), and every commit adds one.
 */
export interface Manifest {
  readonly generation: number;
  readonly head: string;
  readonly refs: ReadonlyMap<string, Oid>;
  /** Pack names, `pack-{checksum}`, oldest first. */
  readonly packs: readonly string[];
}

export const DEFAULT_HEAD = "refs/heads/main";

/** What a never-written repository looks like: no refs, HEAD → refs/heads/main (unborn). */
export const EMPTY_MANIFEST: Manifest = { generation: 0, head: DEFAULT_HEAD, refs: new Map(), packs: [] };

const PACK_NAME_PATTERN = /^pack-[0-9a-f]{40}$/;

export function packName(packChecksum: Oid): string {
  return `pack-${packChecksum}`;
}

export function isPackName(value: string): boolean {
  return PACK_NAME_PATTERN.test(value);
}

function invalid(message: string): CorruptDataError {
  return new CorruptDataError("manifest.invalid", `invalid manifest: ${message}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Validated manifest fields from their JSON forms: refs an object of name → id, packs an array of names. */
export function manifestFromJson(generation: unknown, head: unknown, refs: unknown, packs: unknown): Manifest {
  if (typeof generation !== "number" || !Number.isSafeInteger(generation) || generation < 0) throw invalid("bad generation");
  if (typeof head !== "string" || !isUpdatableRefName(head)) throw invalid("bad head");
  return { generation, head, refs: parseRefs(refs), packs: parsePacks(packs) };
}

function parseRefs(value: unknown): Map<string, Oid> {
  if (!isPlainObject(value)) throw invalid("refs must be an object");
  const refs = new Map<string, Oid>();
  for (const [name, oid] of Object.entries(value)) {
    if (!isUpdatableRefName(name)) throw invalid(`bad ref name ${JSON.stringify(name)}`);
    if (typeof oid !== "string" || !isOid(oid) || oid === ZERO_OID) throw invalid(`bad object id for ${name}`);
    refs.set(name, oid);
  }
  return refs;
}

function parsePacks(value: unknown): string[] {
  if (!Array.isArray(value)) throw invalid("packs must be an array");
  const seen = new Set<string>();
  for (const name of value) {
    if (typeof name !== "string" || !isPackName(name)) throw invalid(`bad pack name ${JSON.stringify(name)}`);
    if (seen.has(name)) throw invalid(`pack ${name} listed twice`);
    seen.add(name);
  }
  return value as string[];
}

function refsJson(refs: ReadonlyMap<string, Oid>): string {
  const sorted: Record<string, Oid> = {};
  for (const name of [...refs.keys()].sort()) sorted[name] = refs.get(name)!;
  return JSON.stringify(sorted);
}

function parseJsonColumn(text: string, column: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalid(`${column} is not JSON`);
  }
}

/** Work done in the transaction that commits a manifest (the SQL mirror's rows, the change event). */
export type AlongsideCommit = (tx: SqlClient) => Promise<void>;

/** A manifest row's repository: its organisation, and its name within it (an agent id). */
export interface RepositoryRow {
  org: string;
  repo: string;
  generation: number;
}

interface ManifestColumns {
  generation: number | string;
  head: string;
  refs: string;
  packs: string;
}

/** The outcome of one commit is unknown (the connection dropped during it, and reading it back failed too). */
export class UnknownCommitOutcomeError extends Error {
  constructor(cause: unknown) {
    super(`the database did not confirm the commit, and reading it back failed: ${(cause as Error)?.message ?? cause}`, { cause });
    this.name = "UnknownCommitOutcomeError";
  }
}

/** Repositories whose generation is remembered between commits; the oldest read is forgotten first. */
const MAX_REMEMBERED_GENERATIONS = 100_000;

/** Signals a lost race inside the transaction, so that it rolls back. */
class LostRace extends Error {}

/**
 * The manifest rows (`manifests`) and the log of their commits (`manifest_commits`, which only
 * serves to read back a commit whose outcome the connection did not report).
 */
export class ManifestStore {
  /** Generations read while the database's commit watch stood at `generationsVersion` (undefined: no row). */
  private readonly generations = new Map<string, number | undefined>();
  private generationsVersion: number | undefined;

  constructor(private readonly db: SqlAdapter) {}

  /**
   * The row's generation: the per-request freshness check. One indexed read, unless the database
   * has had no commit, from any process, since this repository's was last read.
   */
  async generation(org: string, repo: string): Promise<number | undefined> {
    // Taken before the query: a commit after this point changes the version the next call sees.
    const version = this.db.commits?.version();
    const key = `${org}/${repo}`;
    if (version !== undefined && version === this.generationsVersion && this.generations.has(key)) return this.generations.get(key);
    const rows = await this.db.query<{ generation: number | string }>("SELECT generation FROM manifests WHERE org = $1 AND repo = $2", [org, repo]);
    const generation = rows.length === 0 ? undefined : Number(rows[0].generation);
    if (version !== undefined) this.remember(version, key, generation);
    return generation;
  }

  private remember(version: number, key: string, generation: number | undefined): void {
    if (version !== this.generationsVersion) {
      // A newer read may have moved on already; an older version's generations are all void.
      if (this.generationsVersion !== undefined && version < this.generationsVersion) return;
      this.generations.clear();
      this.generationsVersion = version;
    }
    if (this.generations.size >= MAX_REMEMBERED_GENERATIONS) this.generations.delete(this.generations.keys().next().value!);
    this.generations.set(key, generation);
  }

  async read(org: string, repo: string): Promise<Manifest | undefined> {
    const rows = await this.db.query<ManifestColumns>("SELECT generation, head, refs, packs FROM manifests WHERE org = $1 AND repo = $2", [org, repo]);
    if (rows.length === 0) return undefined;
    const row = rows[0];
    return manifestFromJson(Number(row.generation), row.head, parseJsonColumn(row.refs, "refs"), parseJsonColumn(row.packs, "packs"));
  }

  /** Inserts `manifest` as the repository's row unless it has one (adopting a repository of an older layout). */
  async insertIfAbsent(org: string, repo: string, manifest: Manifest): Promise<boolean> {
    return (await this.insert(this.db, org, repo, manifest, crypto.randomUUID())) > 0;
  }

  /**
   * Makes `next` the repository's manifest if its row is still at `next.generation - 1` (no row
   * for 1), running `alongside` in the same transaction; false when another write got there
   * first. When the connection fails during the commit, the outcome is read back rather than
   * guessed: a commit that happened is never reported as failed.
   */
  async commit(org: string, repo: string, next: Manifest, alongside?: AlongsideCommit): Promise<boolean> {
    const writeId = crypto.randomUUID();
    try {
      await this.db.transaction(async (tx) => {
        const changed =
          next.generation === 1
            ? await this.insert(tx, org, repo, next, writeId)
            : await tx.execute(
                `UPDATE manifests SET generation = $1, head = $2, refs = $3, packs = $4, updated_at = $5
                 WHERE org = $6 AND repo = $7 AND generation = $8`,
                [next.generation, next.head, refsJson(next.refs), JSON.stringify(next.packs), new Date().toISOString(), org, repo, next.generation - 1],
              );
        if (changed === 0) throw new LostRace();
        if (next.generation > 1) await this.logCommit(tx, org, repo, next.generation, writeId);
        await alongside?.(tx);
      });
      return true;
    } catch (error) {
      if (error instanceof LostRace) return false;
      if (await this.committedBy(org, repo, next.generation, writeId, error)) return true;
      throw error;
    }
  }

  /**
   * Runs `work` in one transaction if the repository's row is still at `generation` (0: no row),
   * holding the row meanwhile (FOR UPDATE on PostgreSQL, SQLite's write lock) so that no commit
   * slips in; undefined when the row moved.
   */
  async atGeneration<T>(org: string, repo: string, generation: number, work: (tx: SqlClient) => Promise<T>): Promise<T | undefined> {
    try {
      return await this.db.transaction(async (tx) => {
        const lock = tx.dialect === "postgres" ? " FOR UPDATE" : "";
        const rows = await tx.query<{ generation: number | string }>(`SELECT generation FROM manifests WHERE org = $1 AND repo = $2${lock}`, [org, repo]);
        if ((rows.length === 0 ? 0 : Number(rows[0].generation)) !== generation) throw new LostRace();
        return await work(tx);
      });
    } catch (error) {
      if (error instanceof LostRace) return undefined;
      throw error;
    }
  }

  /** The repositories with a row, of one organisation or all, optionally one repository; sorted. */
  async list(filter: { org?: string; repo?: string } = {}): Promise<RepositoryRow[]> {
    const rows = await this.db.query<{ org: string; repo: string; generation: number | string }>(
      `SELECT org, repo, generation FROM manifests
       WHERE ($1 = '' OR org = $1) AND ($2 = '' OR repo = $2) ORDER BY org, repo`,
      [filter.org ?? "", filter.repo ?? ""],
    );
    return rows.map((row) => ({ org: row.org, repo: row.repo, generation: Number(row.generation) }));
  }

  /** Forgets the commit log of generations older than `keep` before the current one (it only serves read-backs). */
  async pruneCommitLog(org: string, repo: string, keep = 100): Promise<void> {
    await this.db.execute(
      "DELETE FROM manifest_commits WHERE org = $1 AND repo = $2 AND generation < (SELECT generation FROM manifests WHERE org = $1 AND repo = $2) - $3",
      [org, repo, keep],
    );
  }

  private async insert(client: SqlClient, org: string, repo: string, manifest: Manifest, writeId: string): Promise<number> {
    const changed = await client.execute(
      `INSERT INTO manifests (org, repo, generation, head, refs, packs, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (org, repo) DO NOTHING`,
      [org, repo, manifest.generation, manifest.head, refsJson(manifest.refs), JSON.stringify(manifest.packs), new Date().toISOString()],
    );
    if (changed > 0) await this.logCommit(client, org, repo, manifest.generation, writeId);
    return changed;
  }

  private async logCommit(client: SqlClient, org: string, repo: string, generation: number, writeId: string): Promise<void> {
    await client.execute("INSERT INTO manifest_commits (org, repo, generation, write_id, committed_at) VALUES ($1, $2, $3, $4, $5)", [
      org,
      repo,
      generation,
      writeId,
      new Date().toISOString(),
    ]);
  }

  /** Whether the commit of `generation` was ours; throws UnknownCommitOutcomeError when even that cannot be read. */
  private async committedBy(org: string, repo: string, generation: number, writeId: string, cause: unknown): Promise<boolean> {
    let rows: { write_id: string }[];
    try {
      rows = await this.db.query<{ write_id: string }>(
        "SELECT write_id FROM manifest_commits WHERE org = $1 AND repo = $2 AND generation = $3",
        [org, repo, generation],
      );
    } catch {
      throw new UnknownCommitOutcomeError(cause);
    }
    return rows.length > 0 && rows[0].write_id === writeId;
  }
}
