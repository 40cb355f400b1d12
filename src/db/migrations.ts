import { DatabaseError, type DialectName, type SqlAdapter } from "./adapter.ts";

/** What a migration may vary by dialect: its name, and column types the two spell differently. */
export interface Dialect {
  name: DialectName;
  timestamp: string;
}

const DIALECTS: Record<DialectName, Dialect> = {
  sqlite: { name: "sqlite", timestamp: "TEXT" },
  postgres: { name: "postgres", timestamp: "TIMESTAMPTZ" },
};

export interface Migration {
  version: number;
  name: string;
  statements(dialect: Dialect): string[];
}

/**
 * The schema, as an append-only list: a released migration never changes; a new one gets the
 * next version. Timestamps are bound as ISO-8601 text (which SQLite compares in time order).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "organisations, API keys and agents",
    statements: ({ timestamp }) => [
      `CREATE TABLE organisations (
        name TEXT PRIMARY KEY,
        created_at ${timestamp} NOT NULL
      )`,
      `CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        org TEXT NOT NULL REFERENCES organisations (name),
        secret_sha256 TEXT NOT NULL,
        created_at ${timestamp} NOT NULL,
        revoked_at ${timestamp},
        last_used_at ${timestamp}
      )`,
      "CREATE INDEX api_keys_org ON api_keys (org)",
      `CREATE TABLE agents (
        org TEXT NOT NULL REFERENCES organisations (name),
        agent_id TEXT NOT NULL,
        created_at ${timestamp} NOT NULL,
        PRIMARY KEY (org, agent_id)
      )`,
    ],
  },
  {
    version: 2,
    name: "repository manifests in the database",
    // Refs and packs are JSON text: read and written whole with the row, never queried inside.
    statements: ({ timestamp }) => [
      `CREATE TABLE manifests (
        org TEXT NOT NULL,
        repo TEXT NOT NULL,
        generation BIGINT NOT NULL,
        head TEXT NOT NULL,
        refs TEXT NOT NULL,
        packs TEXT NOT NULL,
        updated_at ${timestamp} NOT NULL,
        PRIMARY KEY (org, repo)
      )`,
      `CREATE TABLE manifest_commits (
        org TEXT NOT NULL,
        repo TEXT NOT NULL,
        generation BIGINT NOT NULL,
        write_id TEXT NOT NULL,
        committed_at ${timestamp} NOT NULL,
        PRIMARY KEY (org, repo, generation)
      )`,
    ],
  },
  {
    version: 3,
    name: "the SQL mirror of memory files, with full-text search; admin keys",
    statements: ({ name, timestamp }) => [
      "ALTER TABLE api_keys ADD COLUMN admin BOOLEAN NOT NULL DEFAULT false",
      `CREATE TABLE memory_files (
        org TEXT NOT NULL,
        repo TEXT NOT NULL,
        path TEXT NOT NULL,
        label TEXT,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        name TEXT,
        description TEXT,
        read_only BOOLEAN,
        value_limit INTEGER,
        blob TEXT NOT NULL,
        commit_id TEXT NOT NULL,
        generation BIGINT NOT NULL,
        updated_at ${timestamp} NOT NULL,
        ${name === "postgres" ? SEARCH_VECTOR_COLUMN : ""}
        PRIMARY KEY (org, repo, path)
      )`,
      "CREATE INDEX memory_files_label ON memory_files (org, repo, label)",
      ...(name === "postgres" ? ["CREATE INDEX memory_files_search ON memory_files USING GIN (search)"] : SQLITE_SEARCH_INDEX),
    ],
  },
  {
    version: 4,
    name: "sessions of the web page",
    // A session belongs to the key it was opened with: revoking the key ends it (Sessions.find joins).
    statements: ({ timestamp }) => [
      `CREATE TABLE ui_sessions (
        token_sha256 TEXT PRIMARY KEY,
        key_id TEXT NOT NULL REFERENCES api_keys (id),
        created_at ${timestamp} NOT NULL,
        expires_at ${timestamp} NOT NULL
      )`,
      "CREATE INDEX ui_sessions_expiry ON ui_sessions (expires_at)",
    ],
  },
  {
    // Version 4 (the web page's sessions) was developed beside this one: a database may have had 5 before 4, which migrate() allows.
    version: 5,
    name: "change events, their retention horizons, and webhooks",
    statements: ({ name, timestamp }) => [
      // `seq` orders events of one organisation in commit order (see EventLog.append) and is the
      // organisation stream's cursor; AUTOINCREMENT so that SQLite never reuses a pruned one.
      `CREATE TABLE events (
        seq ${name === "postgres" ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"},
        org TEXT NOT NULL,
        agent TEXT NOT NULL,
        generation BIGINT NOT NULL,
        body TEXT NOT NULL,
        created_at ${timestamp} NOT NULL
      )`,
      "CREATE INDEX events_agent ON events (org, agent, generation)",
      // Webhook delivery follows each agent by seq.
      "CREATE INDEX events_agent_seq ON events (org, agent, seq)",
      "CREATE INDEX events_org ON events (org, seq)",
      "CREATE INDEX events_age ON events (created_at)",
      // The newest generation and seq pruned per agent: a cursor below them may have missed events.
      `CREATE TABLE event_horizons (
        org TEXT NOT NULL,
        agent TEXT NOT NULL,
        generation BIGINT NOT NULL,
        seq BIGINT NOT NULL,
        PRIMARY KEY (org, agent)
      )`,
      `CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        org TEXT NOT NULL REFERENCES organisations (name),
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        start_seq BIGINT NOT NULL,
        -- The organisation's events up to this seq have been looked at for new agents to deliver to.
        discovered_seq BIGINT NOT NULL,
        created_at ${timestamp} NOT NULL,
        last_status INTEGER,
        last_error TEXT,
        last_attempt_at ${timestamp}
      )`,
      "CREATE INDEX webhooks_org ON webhooks (org)",
      // One row per webhook and agent: how far delivery got, the retry schedule, and the lease of
      // the instance delivering now.
      `CREATE TABLE webhook_cursors (
        webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
        agent TEXT NOT NULL,
        delivered_seq BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at ${timestamp},
        failing_since ${timestamp},
        lease_owner TEXT,
        lease_until ${timestamp},
        PRIMARY KEY (webhook_id, agent)
      )`,
    ],
  },
  {
    version: 6,
    name: "shared memory repositories, their attachments to agents, and the agents their events go to",
    // A repository's manifest row is `manifests (org, 'repositories/' || id)`; ids are opaque
    // strings (Letta's clients treat them so), names unique per organisation.
    statements: ({ timestamp }) => [
      `CREATE TABLE shared_repositories (
        id TEXT PRIMARY KEY,
        org TEXT NOT NULL REFERENCES organisations (name),
        name TEXT NOT NULL,
        created_at ${timestamp} NOT NULL,
        updated_at ${timestamp} NOT NULL,
        UNIQUE (org, name)
      )`,
      `CREATE TABLE repository_attachments (
        org TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        repository_id TEXT NOT NULL REFERENCES shared_repositories (id),
        created_at ${timestamp} NOT NULL,
        PRIMARY KEY (org, agent_id, repository_id)
      )`,
      "CREATE INDEX repository_attachments_repository ON repository_attachments (repository_id)",
      // The event of a shared repository on the stream of each agent attached when it was committed:
      // `generation` is the agent's own generation then, so that the agent's stream orders it by
      // (generation, seq) after its own events of that generation (see EventLog.append).
      `CREATE TABLE event_recipients (
        org TEXT NOT NULL,
        agent TEXT NOT NULL,
        generation BIGINT NOT NULL,
        seq BIGINT NOT NULL,
        PRIMARY KEY (org, agent, generation, seq)
      )`,
      "CREATE INDEX event_recipients_seq ON event_recipients (seq)",
      // With `generation`, how far an agent's pruned events reached among those of its attached repositories.
      "ALTER TABLE event_horizons ADD COLUMN attached_seq BIGINT NOT NULL DEFAULT 0",
    ],
  },
];

/**
 * Full-text search over memory files: label first, then description, then the value. PostgreSQL
 * keeps a weighted tsvector beside each row (the 'simple' configuration: memory is in any
 * language, so no stemming); SQLite an FTS5 index over the same columns, kept by triggers.
 */
const SEARCH_VECTOR_COLUMN = `search tsvector GENERATED ALWAYS AS (
          setweight(to_tsvector('simple', coalesce(label, '')), 'A') ||
          setweight(to_tsvector('simple', coalesce(description, '')), 'B') ||
          to_tsvector('simple', value)
        ) STORED,`;

const SQLITE_SEARCH_INDEX = [
  `CREATE VIRTUAL TABLE memory_search USING fts5(
    label, description, value, content = 'memory_files', tokenize = 'unicode61 remove_diacritics 2'
  )`,
  `CREATE TRIGGER memory_files_search_insert AFTER INSERT ON memory_files BEGIN
    INSERT INTO memory_search (rowid, label, description, value) VALUES (new.rowid, new.label, new.description, new.value);
  END`,
  `CREATE TRIGGER memory_files_search_delete AFTER DELETE ON memory_files BEGIN
    INSERT INTO memory_search (memory_search, rowid, label, description, value) VALUES ('delete', old.rowid, old.label, old.description, old.value);
  END`,
  `CREATE TRIGGER memory_files_search_update AFTER UPDATE ON memory_files BEGIN
    INSERT INTO memory_search (memory_search, rowid, label, description, value) VALUES ('delete', old.rowid, old.label, old.description, old.value);
    INSERT INTO memory_search (rowid, label, description, value) VALUES (new.rowid, new.label, new.description, new.value);
  END`,
];

/** Any fixed number: a PostgreSQL advisory lock that serialises servers migrating at once. */
const MIGRATION_LOCK = 0x53474954;

/** Applies the migrations the database lacks, all in one transaction. */
export async function migrate(db: SqlAdapter, migrations: readonly Migration[] = MIGRATIONS): Promise<void> {
  const dialect = DIALECTS[db.dialect];
  await db.transaction(async (tx) => {
    if (dialect.name === "postgres") await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await tx.execute(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at ${dialect.timestamp} NOT NULL
      )`,
    );
    const rows = await tx.query<{ version: number }>("SELECT version FROM schema_migrations");
    const applied = new Set(rows.map((row) => Number(row.version)));
    const newest = Math.max(0, ...applied);
    const known = Math.max(0, ...migrations.map((migration) => migration.version));
    if (newest > known) {
      throw new DatabaseError("db.schema", `the database schema is at version ${newest}, newer than this stategit knows (${known}): upgrade stategit`);
    }
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      for (const statement of migration.statements(dialect)) await tx.execute(statement);
      await tx.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [
        migration.version,
        migration.name,
        new Date().toISOString(),
      ]);
    }
  });
}
