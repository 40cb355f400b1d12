import { GitError } from "../git/errors.ts";

export type DialectName = "sqlite" | "postgres";

/** What a statement may bind. Statements number their parameters `$1`, `$2`… on both dialects. */
export type SqlValue = string | number | bigint | boolean | null | Uint8Array;

/** Runs statements: the adapter itself, or the connection of one transaction. */
export interface SqlClient {
  readonly dialect: DialectName;
  query<Row extends object>(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** Runs a statement that returns no rows; resolves to the number of rows it changed. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface SqlAdapter extends SqlClient {
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Present where commits can be noticed without a query (SQLite in WAL mode); PostgreSQL must be asked. */
  readonly commits?: CommitWatch;
}

/**
 * Notices commits to the database, by any connection of any process, without a query: what a
 * query read stays true while `version()` returns the number it returned before that query.
 */
export interface CommitWatch {
  /** A number that changes once anything may have been committed since the last call; undefined when it cannot tell. */
  version(): number | undefined;
}

/**
 * Database misuse and failures: codes `db.url`, `db.connect`, `db.schema`, `org.unknown`, and the
 * shared repositories' `repository.unknown`, `repository.name-invalid`, `repository.exists`, `repository.attached`.
 */
export class DatabaseError extends GitError {}

/** Timestamps come back as Date (PostgreSQL) or as the ISO text they were stored as (SQLite). */
export function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}
