import { describe, expect, test } from "bun:test";
import { DatabaseError, type SqlAdapter } from "../../src/db/adapter.ts";
import { migrate, MIGRATIONS, type Migration } from "../../src/db/migrations.ts";
import { openDatabase, parseDatabaseUrl, redactDatabaseUrl } from "../../src/db/open.ts";
import { databasePerTest, DATABASE_KINDS } from "./databases.ts";

const versions = async (db: SqlAdapter) =>
  (await db.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version")).map((row) => Number(row.version));

const tableExists = async (db: SqlAdapter, table: string) =>
  db.query(`SELECT 1 FROM ${table}`).then(
    () => true,
    () => false,
  );

const OPEN_MODULE = new URL("../../src/db/open.ts", import.meta.url).pathname;

const NOTES: Migration = {
  version: Math.max(...MIGRATIONS.map((migration) => migration.version)) + 1,
  name: "notes",
  statements: ({ timestamp }) => [`CREATE TABLE notes (id TEXT PRIMARY KEY, at ${timestamp})`],
};

for (const kind of DATABASE_KINDS) {
  describe.skipIf(kind.skip !== undefined)(`database on ${kind.name}`, () => {
    const { url, open } = databasePerTest(kind);

    test("opening migrates once; opening again changes nothing", async () => {
      const db = await open();
      expect(await versions(db)).toEqual(MIGRATIONS.map((migration) => migration.version));
      await open();
      expect(await versions(db)).toEqual(MIGRATIONS.map((migration) => migration.version));
    });

    test("openers in one process starting at once on a fresh database migrate it once", async () => {
      const dbs = await Promise.all(Array.from({ length: 3 }, open));
      expect(await versions(dbs[0])).toEqual(MIGRATIONS.map((migration) => migration.version));
    });

    test("servers starting at once on a fresh database migrate it once", async () => {
      const databaseUrl = await url();
      const script = `const { openDatabase } = await import(${JSON.stringify(OPEN_MODULE)}); await (await openDatabase(process.argv[1])).close();`;
      const children = Array.from({ length: 3 }, () => Bun.spawn(["bun", "-e", script, databaseUrl], { stderr: "pipe" }));
      for (const child of children) {
        expect({ status: await child.exited, stderr: await new Response(child.stderr).text() }).toEqual({ status: 0, stderr: "" });
      }
      expect(await versions(await open())).toEqual(MIGRATIONS.map((migration) => migration.version));
    });

    test("a new migration is applied once, after the existing ones", async () => {
      const db = await open();
      await migrate(db, [...MIGRATIONS, NOTES]);
      await migrate(db, [...MIGRATIONS, NOTES]);
      expect(await versions(db)).toEqual([...MIGRATIONS, NOTES].map((migration) => migration.version));
      expect(await tableExists(db, "notes")).toBe(true);
    });

    test("a failing migration leaves nothing behind", async () => {
      const db = await open();
      const broken: Migration = { ...NOTES, statements: (dialect) => [...NOTES.statements(dialect), "CREATE TABLE notes (x TEXT)"] };
      await expect(migrate(db, [...MIGRATIONS, broken])).rejects.toThrow();
      expect(await versions(db)).toEqual(MIGRATIONS.map((migration) => migration.version));
      expect(await tableExists(db, "notes")).toBe(false);
    });

    test("a schema newer than this program is refused", async () => {
      const db = await open();
      await migrate(db, [...MIGRATIONS, NOTES]);
      const error = await migrate(db).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DatabaseError);
      expect((error as DatabaseError).code).toBe("db.schema");
    });

    test("transactions commit, roll back on error, and bind numbered parameters in any order", async () => {
      const db = await open();
      await migrate(db, [...MIGRATIONS, NOTES]);
      await db.transaction(async (tx) => {
        await tx.execute("INSERT INTO notes (at, id) VALUES ($2, $1)", ["kept", null]);
      });
      const failure = new Error("abort");
      await expect(
        db.transaction(async (tx) => {
          await tx.execute("INSERT INTO notes (id) VALUES ($1)", ["dropped"]);
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await db.query("SELECT id, at FROM notes")).toEqual([{ id: "kept", at: null }]);
      expect(await db.execute("UPDATE notes SET id = $1 WHERE id = $1", ["kept"])).toBe(1);
    });

    test("a statement issued while a transaction awaits is not part of it", async () => {
      const db = await open();
      await migrate(db, [...MIGRATIONS, NOTES]);
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const transaction = db.transaction(async (tx) => {
        await tx.execute("INSERT INTO notes (id) VALUES ($1)", ["in-transaction"]);
        entered();
        await Bun.sleep(20);
        throw new Error("roll back");
      });
      await inside;
      const outside = db.execute("INSERT INTO notes (id) VALUES ($1)", ["outside"]);
      await expect(transaction).rejects.toThrow("roll back");
      await outside;
      expect(await db.query("SELECT id FROM notes")).toEqual([{ id: "outside" }]);
    });
  });
}

describe("database URLs", () => {
  test("sqlite and postgres URLs parse; others are refused with a typed error", () => {
    expect(parseDatabaseUrl("sqlite:./data/stategit.db")).toEqual({ dialect: "sqlite", path: "./data/stategit.db" });
    expect(parseDatabaseUrl("postgresql://u@h/db")).toEqual({ dialect: "postgres", url: "postgresql://u@h/db" });
    for (const url of ["", "sqlite:", "mysql://h/db", "postgres://", "./file.db"]) {
      expect(() => parseDatabaseUrl(url)).toThrow(DatabaseError);
    }
  });

  test("passwords never appear in messages", () => {
    expect(redactDatabaseUrl("postgres://user:s3cret@host:5432/db")).toBe("postgres://user:***@host:5432/db");
    const error = (() => {
      try {
        parseDatabaseUrl("mysql://user:s3cret@host/db");
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error?.message).not.toContain("s3cret");
  });

  test("an unreachable PostgreSQL server is a clear db.connect error", async () => {
    const error = await openDatabase("postgres://user:s3cret@127.0.0.1:1/db").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as DatabaseError).code).toBe("db.connect");
    expect((error as Error).message).toContain("postgres://user:***@127.0.0.1:1/db");
    expect((error as Error).message).not.toContain("s3cret");
  });
});
