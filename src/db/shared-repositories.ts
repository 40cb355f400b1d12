import { checkName } from "../names.ts";
import { SHARED_REPOSITORY_PREFIX, sharedRepositoryId, sharedRepositoryName, type RepositoryName } from "../repo/layout.ts";
import type { Repositories, TransactionWork } from "../repo/repository.ts";
import { DatabaseError, toDate, type SqlAdapter } from "./adapter.ts";

/** A shared memory repository (DESIGN.md, Contract, "Shared memory"): owned by an organisation, attached to agents. */
export interface SharedRepository {
  /** Opaque (`repo-` and a UUID): Letta's clients treat repository ids as strings. */
  id: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

/** One page of an organisation's repositories. */
export interface RepositoryPage {
  repositories: SharedRepository[];
  hasNextPage: boolean;
}

/** A shared repository as an attached agent addresses it, with its manifest row's generation (undefined: never written). */
export interface AttachedRepository {
  id: string;
  repo: RepositoryName;
  generation: number | undefined;
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** The name of an agent's own memory in its repository list; Letta Code reserves it in any case. */
export const PRIMARY_REPOSITORY_NAME = "memory";

/**
 * Returns `name` when it may name a shared repository, as Letta Code's validateAgentRepositoryName
 * allows (each is a directory beside the agent's memory); `repository.name-invalid` otherwise.
 */
export function checkSharedRepositoryName(name: string): string {
  if (!NAME.test(name) || name === "." || name === ".." || name.toLowerCase() === PRIMARY_REPOSITORY_NAME) {
    throw new DatabaseError(
      "repository.name-invalid",
      `invalid repository name ${JSON.stringify(name)}: expected 1-64 characters of A-Z a-z 0-9 . _ -, not "." or "..", and not "${PRIMARY_REPOSITORY_NAME}" (reserved for the agent's own memory)`,
    );
  }
  return name;
}

const unknownRepository = (id: string) => new DatabaseError("repository.unknown", `repository ${JSON.stringify(id)} does not exist`);

interface RepositoryColumns {
  id: string;
  name: string;
  created_at: unknown;
  updated_at: unknown;
}

const fromColumns = (row: RepositoryColumns): SharedRepository => ({ id: row.id, name: row.name, createdAt: toDate(row.created_at), updatedAt: toDate(row.updated_at) });

/** Whether a database error is a violation of `kind` of constraint (PostgreSQL's SQLSTATE, SQLite's message). */
function isViolation(error: unknown, kind: "unique" | "foreign key"): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (kind === "unique") return code === "23505" || (typeof message === "string" && message.includes("UNIQUE constraint failed"));
  return code === "23503" || (typeof message === "string" && message.includes("FOREIGN KEY constraint failed"));
}

const attachedError = (id: string) => new DatabaseError("repository.attached", `repository ${JSON.stringify(id)} is attached to agents: detach it first`);

/**
 * `work`, and for a shared repository a check, in the commit's transaction, that the repository
 * still exists (holding its row on PostgreSQL until the commit): a push racing the repository's
 * deletion fails rather than leave a manifest row nothing names.
 */
export function whileSharedRepositoryExists(work: TransactionWork): TransactionWork {
  return async (pending) => {
    const alongside = await work(pending);
    const id = sharedRepositoryId(pending.repo);
    if (id === undefined) return alongside;
    return async (tx) => {
      const lock = tx.dialect === "postgres" ? " FOR SHARE" : "";
      const rows = await tx.query(`SELECT 1 FROM shared_repositories WHERE org = $1 AND id = $2${lock}`, [pending.org, id]);
      if (rows.length === 0) throw unknownRepository(id);
      await alongside?.(tx);
    };
  };
}

/**
 * Shared repositories and their attachments to agents. A repository's content is the repository
 * `repositories/{id}` of its organisation (see RepositoryName): its manifest row, mirror rows and
 * packs live beside the agents' and follow the same rules.
 */
export class SharedRepositories {
  constructor(private readonly db: SqlAdapter) {}

  /** Creates a repository; `repository.exists` when the organisation has one of that name. */
  async create(org: string, name: string): Promise<SharedRepository> {
    checkName("organisation", org);
    checkSharedRepositoryName(name);
    const now = new Date().toISOString();
    const id = `repo-${crypto.randomUUID()}`;
    try {
      await this.db.transaction(async (tx) => {
        // With a trusted org header, an organisation may be in use without having been created.
        await tx.execute("INSERT INTO organisations (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", [org, now]);
        await tx.execute("INSERT INTO shared_repositories (id, org, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)", [id, org, name, now]);
      });
    } catch (error) {
      if (isViolation(error, "unique")) throw new DatabaseError("repository.exists", `a repository named ${JSON.stringify(name)} exists already`);
      throw error;
    }
    return { id, name, createdAt: new Date(now), updatedAt: new Date(now) };
  }

  /** The organisation's repositories by name, `limit` from `offset`. */
  async list(org: string, page: { limit: number; offset: number }): Promise<RepositoryPage> {
    const rows = await this.db.query<RepositoryColumns>(
      "SELECT id, name, created_at, updated_at FROM shared_repositories WHERE org = $1 ORDER BY name LIMIT $2 OFFSET $3",
      [org, page.limit + 1, page.offset],
    );
    return { repositories: rows.slice(0, page.limit).map(fromColumns), hasNextPage: rows.length > page.limit };
  }

  async get(org: string, id: string): Promise<SharedRepository | undefined> {
    const rows = await this.db.query<RepositoryColumns>("SELECT id, name, created_at, updated_at FROM shared_repositories WHERE org = $1 AND id = $2", [org, id]);
    return rows.length === 0 ? undefined : fromColumns(rows[0]);
  }

  /** The organisation's repository whose id or else name is `reference` (what the command line takes). */
  async find(org: string, reference: string): Promise<SharedRepository | undefined> {
    const rows = await this.db.query<RepositoryColumns>(
      "SELECT id, name, created_at, updated_at FROM shared_repositories WHERE org = $1 AND (id = $2 OR name = $2) ORDER BY id = $2 DESC LIMIT 1",
      [org, reference],
    );
    return rows.length === 0 ? undefined : fromColumns(rows[0]);
  }

  /** The organisation's repository `id`; `repository.unknown` when it has none. */
  async require(org: string, id: string): Promise<SharedRepository> {
    const repository = await this.get(org, id);
    if (!repository) throw unknownRepository(id);
    return repository;
  }

  /**
   * Deletes the repository with its manifest, commit log and mirror rows, in one transaction
   * (`repository.attached` while any agent has it attached), then its pack files, which nothing
   * names any more.
   */
  async delete(org: string, id: string, files: Pick<Repositories, "deleteFiles">): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        const attached = await tx.query("SELECT 1 FROM repository_attachments WHERE repository_id = $1 LIMIT 1", [id]);
        if (attached.length > 0) throw attachedError(id);
        if ((await tx.execute("DELETE FROM shared_repositories WHERE org = $1 AND id = $2", [org, id])) === 0) throw unknownRepository(id);
        const repo = sharedRepositoryName(id);
        for (const table of ["manifests", "manifest_commits", "memory_files"]) await tx.execute(`DELETE FROM ${table} WHERE org = $1 AND repo = $2`, [org, repo]);
      });
    } catch (error) {
      // An attachment committed after the check above (PostgreSQL): its foreign key refuses the delete.
      if (isViolation(error, "foreign key")) throw attachedError(id);
      throw error;
    }
    await files.deleteFiles(org, sharedRepositoryName(id));
  }

  /** Attaches the repository to the agent; attaching twice is not an error. */
  async attach(org: string, agent: string, id: string): Promise<SharedRepository> {
    checkName("agent id", agent);
    const repository = await this.require(org, id);
    await this.db.execute(
      `INSERT INTO repository_attachments (org, agent_id, repository_id, created_at)
       SELECT org, $2, id, $3 FROM shared_repositories WHERE org = $1 AND id = $4
       ON CONFLICT (org, agent_id, repository_id) DO NOTHING`,
      [org, agent, new Date().toISOString(), id],
    );
    return repository;
  }

  /** Detaches the repository from the agent; `repository.unknown` when it was not attached. */
  async detach(org: string, agent: string, id: string): Promise<void> {
    const changed = await this.db.execute("DELETE FROM repository_attachments WHERE org = $1 AND agent_id = $2 AND repository_id = $3", [org, agent, id]);
    if (changed === 0) throw new DatabaseError("repository.unknown", `repository ${JSON.stringify(id)} is not attached to agent ${JSON.stringify(agent)}`);
  }

  /** The repositories attached to the agent, by name. */
  async attached(org: string, agent: string): Promise<SharedRepository[]> {
    const rows = await this.db.query<RepositoryColumns>(
      `SELECT r.id, r.name, r.created_at, r.updated_at FROM repository_attachments a JOIN shared_repositories r ON r.id = a.repository_id
       WHERE a.org = $1 AND a.agent_id = $2 ORDER BY r.name`,
      [org, agent],
    );
    return rows.map(fromColumns);
  }

  /** The agents the repository is attached to, by id. */
  async agentsAttached(org: string, id: string): Promise<string[]> {
    const rows = await this.db.query<{ agent_id: string }>("SELECT agent_id FROM repository_attachments WHERE org = $1 AND repository_id = $2 ORDER BY agent_id", [org, id]);
    return rows.map((row) => row.agent_id);
  }

  /**
   * The repository named `name` when it is attached to the agent, with its manifest's generation,
   * in one statement of index lookups: the git routes' whole freshness check for a shared
   * repository, as the generation read is for an agent's own.
   */
  async resolveAttached(org: string, agent: string, name: string): Promise<AttachedRepository | undefined> {
    const rows = await this.db.query<{ id: string; generation: number | string | null }>(
      `SELECT r.id, (SELECT m.generation FROM manifests m WHERE m.org = r.org AND m.repo = $4 || r.id) AS generation
       FROM shared_repositories r JOIN repository_attachments a ON a.org = r.org AND a.agent_id = $3 AND a.repository_id = r.id
       WHERE r.org = $1 AND r.name = $2`,
      [org, name, agent, SHARED_REPOSITORY_PREFIX],
    );
    if (rows.length === 0) return undefined;
    const { id, generation } = rows[0];
    return { id, repo: sharedRepositoryName(id), generation: generation === null ? undefined : Number(generation) };
  }

  /** The agents each of the organisation's repositories is attached to, by id (repositories attached to none are absent). */
  async attachments(org: string): Promise<Map<string, string[]>> {
    const rows = await this.db.query<{ repository_id: string; agent_id: string }>(
      "SELECT repository_id, agent_id FROM repository_attachments WHERE org = $1 ORDER BY repository_id, agent_id",
      [org],
    );
    const agents = new Map<string, string[]>();
    for (const { repository_id, agent_id } of rows) agents.set(repository_id, [...(agents.get(repository_id) ?? []), agent_id]);
    return agents;
  }

  /** Names of the organisation's repositories among `ids` (search results say where a hit comes from). */
  async names(org: string, ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.query<{ id: string; name: string }>(
      `SELECT id, name FROM shared_repositories WHERE org = $1 AND id IN (${ids.map((_, i) => `$${i + 2}`).join(", ")})`,
      [org, ...ids],
    );
    return new Map(rows.map((row) => [row.id, row.name]));
  }
}
