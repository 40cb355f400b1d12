import postgres from "postgres";
import { DatabaseError, type SqlAdapter, type SqlClient, type SqlValue } from "./adapter.ts";

type Connection = postgres.Sql | postgres.TransactionSql;
type Parameters = postgres.ParameterOrJSON<never>[];

/** Connects to PostgreSQL, failing with DatabaseError("db.connect") when the server does not answer. */
export async function openPostgres(url: string, displayUrl: string): Promise<SqlAdapter> {
  // fetch_types off: postgres.js reads the array types on each new connection in a promise that
  // nothing awaits, so a connection terminated meanwhile (a failover, pg_terminate_backend) was an
  // unhandled rejection; array parameters are sent as text literals here and need no types.
  const sql = postgres(url, { max: 10, connect_timeout: 10, fetch_types: false, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
  } catch (error) {
    await sql.end({ timeout: 0 });
    throw new DatabaseError("db.connect", `cannot connect to ${displayUrl}: ${(error as Error).message}`);
  }
  return {
    ...client(sql),
    transaction: <T>(fn: (tx: SqlClient) => Promise<T>) => sql.begin((tx) => fn(client(tx))) as Promise<T>,
    close: () => sql.end({ timeout: 5 }),
  };
}

function client(sql: Connection): SqlClient {
  return {
    dialect: "postgres",
    query: async <Row extends object>(text: string, params: readonly SqlValue[] = []) =>
      (await sql.unsafe(text, params as Parameters)) as unknown as Row[],
    execute: async (text, params = []) => (await sql.unsafe(text, params as Parameters)).count,
  };
}
