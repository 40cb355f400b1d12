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
