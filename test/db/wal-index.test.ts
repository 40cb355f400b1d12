import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join, resolve } from "node:path";
import type { SqlAdapter } from "../../src/db/adapter.ts";
import { ManifestStore, type Manifest } from "../../src/db/manifests.ts";
import { openDatabase } from "../../src/db/open.ts";
import { tempDir } from "../support/git.ts";

const MAIN = "refs/heads/main";
const manifest = (generation: number, tip: string): Manifest => ({ generation, head: MAIN, refs: new Map([[MAIN, tip.repeat(40)]]), packs: [] });
const MANIFESTS_MODULE = resolve(import.meta.dir, "../../src/db/manifests.ts");
const OPEN_MODULE = resolve(import.meta.dir, "../../src/db/open.ts");

/** Runs `body` (TypeScript, with `store`: a ManifestStore on `url`) in another process, as another instance or a CLI command would. */
function inAnotherProcess(url: string, body: string): void {
  const script = `import { ManifestStore } from ${JSON.stringify(MANIFESTS_MODULE)};
import { openDatabase } from ${JSON.stringify(OPEN_MODULE)};
const db = await openDatabase(${JSON.stringify(url)});
const store = new ManifestStore(db);
${body}
await db.close();`;
  const child = Bun.spawnSync([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
  if (child.exitCode !== 0) throw new Error(`the other process failed: ${child.stderr.toString()}`);
}

describe("noticing SQLite commits without a query (the WAL-index header)", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const open = async (): Promise<{ db: SqlAdapter; url: string; path: string }> => {
    const dir = tempDir("stategit-wal-");
    const path = join(dir.path, "stategit.db");
    const url = `sqlite:${path}`;
    const db = await openDatabase(url);
    cleanups.push(dir.cleanup, () => db.close());
    return { db, url, path };
  };

  test("the version stays put across reads and rolled-back transactions, and moves on every commit, of any process", async () => {
    const { db, path } = await open();
    const watch = db.commits!;
    const start = watch.version();
    expect(start).toBeNumber();
    await db.query("SELECT generation FROM manifests");
    expect(watch.version()).toBe(start);
    await expect(db.transaction(async (tx) => {
      await tx.execute("INSERT INTO organisations (name, created_at) VALUES ('acme', 'now')");
      throw new Error("rolled back");
    })).rejects.toThrow("rolled back");
    expect(watch.version()).toBe(start);

    await db.execute("INSERT INTO organisations (name, created_at) VALUES ('acme', 'now')");
    const afterOwnCommit = watch.version()!;
    expect(afterOwnCommit).not.toBe(start);
    expect(watch.version()).toBe(afterOwnCommit);

    const other = new Database(path);
    other.run("INSERT INTO organisations (name, created_at) VALUES ('globex', 'now')");
    other.close();
    expect(watch.version()).not.toBe(afterOwnCommit);
  });

  test("a generation committed by another process is seen by the next read, though the last one was remembered", async () => {
    const { db, url } = await open();
    const store = new ManifestStore(db);
    expect(await store.generation("acme", "a")).toBeUndefined();
    inAnotherProcess(url, `await store.commit("acme", "a", { generation: 1, head: "refs/heads/main", refs: new Map([["refs/heads/main", "a".repeat(40)]]), packs: [] });`);
    expect(await store.generation("acme", "a")).toBe(1);
    expect(await store.generation("acme", "a")).toBe(1);

    await store.commit("acme", "a", manifest(2, "b"));
    expect(await store.generation("acme", "a")).toBe(2);
    inAnotherProcess(url, `await store.commit("acme", "a", { generation: 3, head: "refs/heads/main", refs: new Map([["refs/heads/main", "c".repeat(40)]]), packs: [] });`);
    expect(await store.generation("acme", "a")).toBe(3);
  });

  test("an in-memory database has no commit watch: every read asks it", async () => {
    const db = await openDatabase("sqlite::memory:");
    cleanups.push(() => db.close());
    expect(db.commits).toBeUndefined();
  });
});
