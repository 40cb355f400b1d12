import { describe, expect, test } from "bun:test";
import type { SqlAdapter } from "../../src/db/adapter.ts";
import { ManifestStore, UnknownCommitOutcomeError, type Manifest } from "../../src/db/manifests.ts";
import { CorruptDataError } from "../../src/git/errors.ts";
import { databasePerTest, DATABASE_KINDS } from "./databases.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);
const PACK = `pack-${"c".repeat(40)}`;
const MAIN = "refs/heads/main";

const manifest = (generation: number, main: string, packs: string[] = [PACK]): Manifest => ({
  generation,
  head: MAIN,
  refs: new Map([[MAIN, main]]),
  packs,
});

/** A database whose transactions fail as told: before committing, or after (the answer lost on the way back). */
function faulty(db: SqlAdapter, fault: () => "before" | "after" | "none", readsFail = () => false): SqlAdapter {
  return {
    dialect: db.dialect,
    query: (sql, params) => (readsFail() ? Promise.reject(new Error("connection lost")) : db.query(sql, params)),
    execute: (sql, params) => db.execute(sql, params),
    close: () => db.close(),
    transaction: async (fn) => {
      const when = fault();
      if (when === "before") throw new Error("connection lost");
      const result = await db.transaction(fn);
      if (when === "after") throw new Error("connection lost");
      return result;
    },
  };
}

for (const kind of DATABASE_KINDS) {
  describe.skipIf(kind.skip !== undefined)(`manifest rows on ${kind.name}`, () => {
    const { open } = databasePerTest(kind);

    test("a never-written repository has no row; commits advance the generation one at a time", async () => {
      const rows = new ManifestStore(await open());
      expect(await rows.generation("acme", "a")).toBeUndefined();
      expect(await rows.read("acme", "a")).toBeUndefined();
      expect(await rows.commit("acme", "a", manifest(1, A))).toBe(true);
      expect(await rows.generation("acme", "a")).toBe(1);
      expect(await rows.commit("acme", "a", manifest(2, B, [PACK, `pack-${"d".repeat(40)}`]))).toBe(true);
      expect(await rows.read("acme", "a")).toEqual(manifest(2, B, [PACK, `pack-${"d".repeat(40)}`]));
      expect(await rows.generation("acme", "b")).toBeUndefined();
    });

    test("a commit from a stale generation loses and changes nothing", async () => {
      const rows = new ManifestStore(await open());
      await rows.commit("acme", "a", manifest(1, A));
      expect(await rows.commit("acme", "a", manifest(1, B))).toBe(false);
      await rows.commit("acme", "a", manifest(2, B));
      expect(await rows.commit("acme", "a", manifest(2, A))).toBe(false);
      expect(await rows.commit("acme", "a", manifest(4, A))).toBe(false);
      expect(await rows.read("acme", "a")).toEqual(manifest(2, B));
    });

    test("concurrent commits from one generation, through two connections: exactly one wins", async () => {
      const first = new ManifestStore(await open());
      const second = new ManifestStore(await open());
      await first.commit("acme", "a", manifest(1, A));
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? first : second).commit("acme", "a", manifest(2, i % 2 ? A : B))),
      );
      expect(results.filter(Boolean).length).toBe(1);
      expect(await first.generation("acme", "a")).toBe(2);
    });

    test("atGeneration runs its work only at the generation given, and a commit waits for it", async () => {
      const db = await open();
      const rows = new ManifestStore(db);
      const other = new ManifestStore(await open());
      expect(await rows.atGeneration("acme", "a", 0, async () => "no row yet")).toBe("no row yet");
      await rows.commit("acme", "a", manifest(1, A));
      expect(await rows.atGeneration("acme", "a", 0, async () => "stale")).toBeUndefined();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const events: string[] = [];
      const holding = rows.atGeneration("acme", "a", 1, async () => {
        events.push("work started");
        await held;
        events.push("work done");
        return "done";
      });
      while (events.length === 0) await Bun.sleep(1);
      const racing = other.commit("acme", "a", manifest(2, B)).then((won) => events.push(`commit ${won}`));
      await Bun.sleep(50);
      release();
      expect(await holding).toBe("done");
      await racing;
      expect(events).toEqual(["work started", "work done", "commit true"]);
    });

    test("work alongside the commit is in the same transaction: it rolls back with a lost race, and its failure undoes the commit", async () => {
      const db = await open();
      await db.execute("CREATE TABLE side (n INTEGER)");
      const rows = new ManifestStore(db);
      const alongside = (n: number) => async (tx: Parameters<Parameters<SqlAdapter["transaction"]>[0]>[0]) => {
        await tx.execute("INSERT INTO side (n) VALUES ($1)", [n]);
      };
      expect(await rows.commit("acme", "a", manifest(1, A), alongside(1))).toBe(true);
      expect(await rows.commit("acme", "a", manifest(1, B), alongside(2))).toBe(false);
      await expect(
        rows.commit("acme", "a", manifest(2, B), async () => {
          throw new Error("mirror refused");
        }),
      ).rejects.toThrow("mirror refused");
      expect(await rows.read("acme", "a")).toEqual(manifest(1, A));
      expect((await db.query<{ n: number }>("SELECT n FROM side")).map(({ n }) => Number(n))).toEqual([1]);
    });

    test("a commit whose answer was lost is read back: committed is reported as committed, failed as failed", async () => {
      const db = await open();
      let fault: "before" | "after" | "none" = "none";
      let readsFail = false;
      const rows = new ManifestStore(faulty(db, () => fault, () => readsFail));
      await rows.commit("acme", "a", manifest(1, A));

      fault = "after";
      expect(await rows.commit("acme", "a", manifest(2, B))).toBe(true);
      expect(await rows.read("acme", "a")).toEqual(manifest(2, B));

      fault = "before";
      await expect(rows.commit("acme", "a", manifest(3, A))).rejects.toThrow("connection lost");
      expect((await rows.read("acme", "a"))?.generation).toBe(2);

      fault = "after";
      readsFail = true;
      await expect(rows.commit("acme", "a", manifest(3, A))).rejects.toBeInstanceOf(UnknownCommitOutcomeError);
      readsFail = false;
      // Another writer's commit of the same generation is not mistaken for ours.
      fault = "none";
      const other = new ManifestStore(db);
      expect(await other.commit("acme", "b", manifest(1, A))).toBe(true);
      fault = "before";
      await expect(rows.commit("acme", "b", manifest(1, B))).rejects.toThrow("connection lost");
    });

    test("insertIfAbsent adopts once; list filters by organisation and repository", async () => {
      const rows = new ManifestStore(await open());
      expect(await rows.insertIfAbsent("acme", "old", manifest(7, A))).toBe(true);
      expect(await rows.insertIfAbsent("acme", "old", manifest(9, B))).toBe(false);
      expect(await rows.read("acme", "old")).toEqual(manifest(7, A));
      expect(await rows.commit("acme", "old", manifest(8, B))).toBe(true);
      await rows.commit("beta", "x", manifest(1, A));
      expect(await rows.list()).toEqual([
        { org: "acme", repo: "old", generation: 8 },
        { org: "beta", repo: "x", generation: 1 },
      ]);
      expect(await rows.list({ org: "beta" })).toEqual([{ org: "beta", repo: "x", generation: 1 }]);
      expect(await rows.list({ org: "acme", repo: "nope" })).toEqual([]);
    });

    test("a corrupt row is a CorruptDataError, not a crash", async () => {
      const db = await open();
      const rows = new ManifestStore(db);
      await rows.commit("acme", "a", manifest(1, A));
      await db.execute("UPDATE manifests SET refs = $1", ['{"refs/heads/main":"zz"}']);
      await expect(rows.read("acme", "a")).rejects.toBeInstanceOf(CorruptDataError);
      await db.execute("UPDATE manifests SET refs = $1", ["{"]);
      await expect(rows.read("acme", "a")).rejects.toBeInstanceOf(CorruptDataError);
    });
  });
}
