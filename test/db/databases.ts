import { afterEach } from "bun:test";
import postgres from "postgres";
import { join } from "node:path";
import type { SqlAdapter } from "../../src/db/adapter.ts";
import { openDatabase } from "../../src/db/open.ts";
import { tempDir } from "../support/git.ts";

/** A database of its own for one test: a fresh SQLite file, or a fresh PostgreSQL schema. */
export interface TestDatabase {
  url: string;
  cleanup(): Promise<void>;
}

export interface TestDatabaseKind {
  name: "sqlite" | "postgres";
  /** Why this kind is skipped here, if it is. */
  skip: string | undefined;
  create(): Promise<TestDatabase>;
}

const POSTGRES_URL = process.env.DATABASE_URL;
const POSTGRES_SKIP = POSTGRES_URL ? undefined : "DATABASE_URL is not set";
// CI must run them: a missing DATABASE_URL there is a broken pipeline, not a laptop.
if (POSTGRES_SKIP && process.env.CI) throw new Error("CI is set but DATABASE_URL is not: the PostgreSQL tests must run");
if (POSTGRES_SKIP) console.warn(`PostgreSQL tests are skipped: ${POSTGRES_SKIP}`);

async function createSqlite(): Promise<TestDatabase> {
  const dir = tempDir("stategit-db-");
  return { url: `sqlite:${join(dir.path, "stategit.db")}`, cleanup: async () => dir.cleanup() };
}

/**
 * A schema named for this run (tests of several runs may share the server), selected through the
 * URL's `search_path` parameter, which postgres.js sends at connection start. When DATABASE_URL
 * names a server that does not answer, this throws: the tests fail rather than skip.
 */
async function createPostgres(): Promise<TestDatabase> {
  const schema = `stategit_test_${process.pid}_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = postgres(POSTGRES_URL!, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE SCHEMA ${schema}`);
  } catch (error) {
    await admin.end({ timeout: 0 });
    throw error;
  }
  const url = new URL(POSTGRES_URL!);
  url.searchParams.set("search_path", schema);
  return {
    url: url.toString(),
    cleanup: async () => {
      await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

export const DATABASE_KINDS: readonly TestDatabaseKind[] = [
  { name: "sqlite", skip: undefined, create: createSqlite },
  { name: "postgres", skip: POSTGRES_SKIP, create: createPostgres },
];

/**
 * Inside a describe: one fresh database per test, created on first use and opened (migrated)
 * as often as the test asks; everything opened is closed and the database dropped after it.
 */
export function databasePerTest(kind: TestDatabaseKind): { url(): Promise<string>; open(): Promise<SqlAdapter> } {
  let database: Promise<TestDatabase> | undefined;
  const opened: SqlAdapter[] = [];
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close();
    await (await database)?.cleanup();
    database = undefined;
  });
  const url = async () => (await (database ??= kind.create())).url;
  return {
    url,
    open: async () => {
      const db = await openDatabase(await url());
      opened.push(db);
      return db;
    },
  };
}
