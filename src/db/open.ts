import { DatabaseError, type SqlAdapter } from "./adapter.ts";
import { migrate } from "./migrations.ts";
import { openPostgres } from "./postgres.ts";
import { openSqlite } from "./sqlite.ts";

export type DatabaseLocation = { dialect: "sqlite"; path: string } | { dialect: "postgres"; url: string };

export const DATABASE_URL_FORMS = "sqlite:PATH or postgres://…";

/** Parses `--database`: `sqlite:PATH` (relative to the working directory) or `postgres://…`/`postgresql://…`. */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (url.startsWith("sqlite:") && url.length > "sqlite:".length) return { dialect: "sqlite", path: url.slice("sqlite:".length) };
  if (/^postgres(ql)?:\/\/./.test(url)) {
    if (!URL.canParse(url)) throw new DatabaseError("db.url", `malformed PostgreSQL URL ${redactDatabaseUrl(url)}`);
    return { dialect: "postgres", url };
  }
  throw new DatabaseError("db.url", `unsupported database URL ${JSON.stringify(redactDatabaseUrl(url))} (expected ${DATABASE_URL_FORMS})`);
}

/** The URL without its password, for messages and logs. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, "$1***@");
}

/** Opens the database and brings its schema up to date. */
export async function openDatabase(url: string): Promise<SqlAdapter> {
  const location = parseDatabaseUrl(url);
  const db = location.dialect === "sqlite" ? openSqlite(location.path) : await openPostgres(location.url, redactDatabaseUrl(url));
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}
