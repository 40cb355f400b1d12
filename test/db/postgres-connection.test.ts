/**
 * A PostgreSQL backend that dies under an open transaction (a failover, an administrator's
 * pg_terminate_backend, a proxy restarting) fails that transaction and nothing else: the process
 * keeps running and the next call reconnects. postgres.js 3.4.9 threw an uncatchable TypeError
 * from a deferred write on the dead socket (porsager/postgres#1154, #1208), which killed the
 * server; scripts/patch-dependencies.mjs fixes it at install.
 */
import { describe, expect, test } from "bun:test";
import postgres from "postgres";
import { DATABASE_KINDS, databasePerTest } from "./databases.ts";

const kind = DATABASE_KINDS.find((each) => each.name === "postgres")!;

describe.skipIf(kind.skip !== undefined)("postgresql connection loss", () => {
  const database = databasePerTest(kind);

  test("a backend terminated inside a transaction fails that transaction cleanly; the process lives and the next query works", async () => {
    const db = await database.open();
    const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => void uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    try {
      for (let round = 0; round < 5; round++) {
        const outcome = db.transaction(async (tx) => {
          const [{ pid }] = await tx.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
          await admin`SELECT pg_terminate_backend(${pid})`;
          // Work between statements (the mirror's rows are computed in the transaction) outlives the connection.
          await Bun.sleep(50);
          await tx.query("SELECT 1");
        });
        await expect(outcome).rejects.toThrow();
        // The deferred writes of the dead connection run here.
        await Bun.sleep(20);
        expect(await db.query<{ one: number }>("SELECT 1 AS one")).toEqual([{ one: 1 }]);
      }
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
      await admin.end();
    }
  });
});
