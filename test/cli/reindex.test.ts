import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { memoryFiles } from "../../src/blocks/memory-file.ts";
import { commitTree } from "../../src/blocks/push-check.ts";
import { ManifestStore } from "../../src/db/manifests.ts";
import { MemoryMirror, mirrorInTransaction } from "../../src/db/mirror.ts";
import { openDatabase } from "../../src/db/open.ts";
import { ZERO_OID } from "../../src/git/oid.ts";
import { Repositories } from "../../src/repo/repository.ts";
import { FileBlobStore } from "../../src/storage/file.ts";
import { Workdir } from "../repo/support.ts";
import { tempDir } from "../support/git.ts";
import { RUNNERS } from "./runners.ts";

const MAIN = "refs/heads/main";
const dir = tempDir("stategit-reindex-");
const work = new Workdir();
afterAll(() => {
  dir.cleanup();
  work.cleanup();
});
const DB_URL = `sqlite:${join(dir.path, "stategit.db")}`;
const DATA = ["--storage", `file:${join(dir.path, "repos")}`, "--database", DB_URL];
const sources = RUNNERS.find((runner) => runner.name === "sources")!;

function stategit(...args: string[]) {
  const result = Bun.spawnSync([...sources.command, ...args, ...DATA], { cwd: dir.path, stdout: "pipe", stderr: "pipe" });
  return { status: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

const withMirror = async <T>(fn: (mirror: MemoryMirror, repos: Repositories, db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> => {
  const db = await openDatabase(DB_URL);
  const mirror = new MemoryMirror(db);
  try {
    return await fn(mirror, new Repositories(new FileBlobStore(join(dir.path, "repos")), new ManifestStore(db), { compaction: false, inTransaction: mirrorInTransaction(mirror, "letta") }), db);
  } finally {
    await db.close();
  }
};

beforeAll(async () => {
  const commit = work.commit({ "system/human.md": "---\ndescription: user\n---\nAda\n", "system/persona.md": "---\ndescription: me\n---\nHelpful\n", "notes.md": "n\n" });
  await withMirror(async (_, repos) => {
    for (const agent of ["a", "b"]) {
      const result = await repos.push("acme", agent, { updates: [{ ref: MAIN, oldOid: ZERO_OID, newOid: commit }], pack: work.pack([commit]) });
      expect(result.statuses[0].ok).toBe(true);
    }
  });
});

test("reindex rewrites tampered, missing and extra rows of the mirror, and reports each; a second run finds nothing", async () => {
  expect(stategit("reindex")).toEqual({ status: 0, stdout: "reindex: 2 repositories, 0 fixed, 0 rows rewritten\n", stderr: "" });
  await withMirror(async (_, __, db) => {
    await db.execute("UPDATE memory_files SET value = 'tampered' WHERE org = 'acme' AND repo = 'a' AND path = 'system/human.md'");
    await db.execute("DELETE FROM memory_files WHERE org = 'acme' AND repo = 'a' AND path = 'notes.md'");
    await db.execute(
      "INSERT INTO memory_files (org, repo, path, label, kind, value, blob, commit_id, generation, updated_at) SELECT org, repo, 'system/ghost.md', 'ghost', kind, 'boo', blob, commit_id, generation, updated_at FROM memory_files WHERE org = 'acme' AND repo = 'a' AND path = 'system/persona.md'",
    );
  });
  const fixed = stategit("reindex", "--org", "acme");
  expect(fixed).toEqual({
    status: 0,
    stdout: "acme/a: added notes.md\nacme/a: changed system/human.md\nacme/a: removed system/ghost.md\nreindex: 2 repositories, 1 fixed, 3 rows rewritten\n",
    stderr: "",
  });
  await withMirror(async (mirror, repos) => {
    const snapshot = await repos.snapshot("acme", "a");
    const expected = memoryFiles(snapshot.objects, commitTree(snapshot.objects, snapshot.refs.get(MAIN)!)).sort((x, y) => (x.path < y.path ? -1 : 1));
    expect((await mirror.files("acme", "a")).map(({ commit: _c, generation: _g, updatedAt: _u, ...file }) => file)).toEqual(expected);
  });
  expect(stategit("reindex", "--agent", "a").stdout).toBe("reindex: 1 repositories, 0 fixed, 0 rows rewritten\n");
});

test("a rebuild commits only at the manifest generation it read", async () => {
  await withMirror(async (mirror, repos, db) => {
    const manifests = new ManifestStore(db);
    const { generation } = (await repos.snapshot("acme", "b")).manifest;
    expect(await manifests.atGeneration("acme", "b", generation - 1, (tx) => mirror.reconcile(tx, "acme", "b", [], undefined, generation))).toBeUndefined();
    expect((await mirror.files("acme", "b")).length).toBe(3);
    const repair = await manifests.atGeneration("acme", "b", generation, (tx) => mirror.reconcile(tx, "acme", "b", [], undefined, generation));
    expect(repair).toEqual({ added: [], changed: [], removed: ["notes.md", "system/human.md", "system/persona.md"] });
    expect(await mirror.files("acme", "b")).toEqual([]);
  });
  expect(stategit("reindex", "--agent", "b").stdout).toBe("acme/b: added notes.md\nacme/b: added system/human.md\nacme/b: added system/persona.md\nreindex: 1 repositories, 1 fixed, 3 rows rewritten\n");
});
