import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { classifyGitDirFile } from "../../src/git/gitdir/index.ts";
import { importRepositories, type RepositoryReport } from "../../src/repo/import.ts";
import type { ManifestStore } from "../../src/db/manifests.ts";
import { Repositories } from "../../src/repo/repository.ts";
import { FileBlobStore } from "../../src/storage/file.ts";
import { MemoryBlobStore } from "../../src/storage/memory.ts";
import { StorageError, type BlobStore } from "../../src/storage/blob-store.ts";
import { gitText, tempDir } from "../support/git.ts";
import { seededRandom } from "../support/random.ts";
import { addBrokenBranch, exportAndFsck, LegacyBucket, richRepository, SourceRepo } from "./legacy-source.ts";
import { memoryManifests, wrapStore } from "./support.ts";

const cleanups: Array<() => void> = [];
afterAll(() => {
  for (const cleanup of cleanups) cleanup();
});

function track<T extends { cleanup: () => void }>(value: T): T {
  cleanups.push(value.cleanup);
  return value;
}

let bucket: LegacyBucket;
let store: MemoryBlobStore;
let manifests: ManifestStore;
let repositories: Repositories;

beforeEach(async () => {
  bucket = track(new LegacyBucket());
  store = new MemoryBlobStore();
  manifests = await memoryManifests();
  repositories = new Repositories(store, manifests, { compaction: false });
});

function importAll(options: Parameters<typeof importRepositories>[2] = {}, into = repositories): Promise<RepositoryReport[]> {
  return importRepositories(new FileBlobStore(bucket.root), into, options);
}

function byId(reports: RepositoryReport[]): Record<string, RepositoryReport> {
  return Object.fromEntries(reports.map((report) => [report.id, report]));
}

async function storedRefs(org: string, agent: string): Promise<Map<string, string>> {
  return new Map((await repositories.snapshot(org, agent)).refs);
}

async function fsck(org: string, agent: string): Promise<void> {
  await exportAndFsck(store, repositories, org, agent, track(tempDir("stategit-export-")).path);
}

/** The bucket's files in a memory: store. */
async function inMemory(): Promise<BlobStore> {
  const files = new FileBlobStore(bucket.root);
  const copy = new MemoryBlobStore();
  for (const { key } of await files.list("")) await copy.createOnly(key, (await files.get(key))!);
  return copy;
}

describe("import", () => {
  test.each(["file", "memory"])("packed and loose objects, packed-refs and loose refs, tags: every ref imported, fsck-clean (%s: source)", async (kind) => {
    const repo = track(richRepository());
    bucket.put("acme", "agent-1", repo.path);
    const source = kind === "file" ? new FileBlobStore(bucket.root) : await inMemory();
    const [report] = await importRepositories(source, repositories);
    expect(report).toMatchObject({ id: "acme/agent-1", outcome: "imported", refs: 6, skippedRefs: [], notes: [] });
    expect(report.objects).toBeGreaterThan(10);
    expect(await storedRefs("acme", "agent-1")).toEqual(repo.refs());
    await fsck("acme", "agent-1");
  });

  test("a ref whose objects are missing is skipped and named; the others are imported", async () => {
    const repo = track(richRepository());
    const lost = addBrokenBranch(repo, "broken");
    bucket.put("acme", "agent-1", repo.path);
    const [report] = await importAll();
    expect(report.outcome).toBe("imported");
    expect(report.skippedRefs).toEqual([{ name: "refs/heads/broken", reason: `missing object ${lost}` }]);
    const expected = repo.refs();
    expected.delete("refs/heads/broken");
    expect(await storedRefs("acme", "agent-1")).toEqual(expected);
    await fsck("acme", "agent-1");
  });

  test("running it again changes nothing; a changed source moves only the refs that differ", async () => {
    const repo = track(richRepository());
    bucket.put("acme", "agent-1", repo.path);
    await importAll();
    const generation = (await repositories.snapshot("acme", "agent-1")).manifest.generation;
    expect((await importAll())[0]).toMatchObject({ outcome: "up to date", refs: 0, objects: 0 });
    expect((await repositories.snapshot("acme", "agent-1")).manifest.generation).toBe(generation);

    repo.commit({ "new.md": "after the first import\n" });
    repo.run("reset", "-q", "--hard");
    repo.run("branch", "-f", "stable", "v1~1");
    bucket.put("acme", "agent-1", repo.path);
    const [update] = await importAll();
    // One new commit, its tree and blob; the rewound branch needs no object.
    expect(update).toMatchObject({ outcome: "updated", refs: 2, objects: 3 });
    expect(await storedRefs("acme", "agent-1")).toEqual(repo.refs());
    await fsck("acme", "agent-1");
  });

  test("refs of the destination that the source lacks are kept and mentioned", async () => {
    const repo = track(richRepository());
    bucket.put("acme", "agent-1", repo.path);
    await importAll();
    repo.run("branch", "-D", "feature");
    repo.run("pack-refs", "--all");
    bucket.put("acme", "agent-1", repo.path);
    const [report] = await importAll();
    expect(report.outcome).toBe("up to date");
    expect(report.notes).toEqual(["1 ref(s) of the destination that the source lacks are kept"]);
    expect((await storedRefs("acme", "agent-1")).has("refs/heads/feature")).toBe(true);
  });

  test("a failure in one repository leaves it untouched and the others imported; a rerun finishes it", async () => {
    for (const agent of ["agent-1", "agent-2", "agent-3"]) {
      const repo = track(new SourceRepo());
      repo.commit({ "who.md": `${agent}\n` });
      bucket.put("acme", agent, repo.path);
    }
    const failing = new Repositories(
      wrapStore(store, {
        createOnly: async (key, data) => {
          if (key.startsWith("acme/agent-2/")) throw new StorageError("storage.unavailable", "the store did not answer");
          return store.createOnly(key, data);
        },
      }),
      manifests,
      { compaction: false },
    );
    const first = byId(await importAll({}, failing));
    expect(first["acme/agent-1"].outcome).toBe("imported");
    expect(first["acme/agent-2"]).toMatchObject({ outcome: "failed", reason: "the store did not answer" });
    expect(first["acme/agent-3"].outcome).toBe("imported");
    expect((await failing.snapshot("acme", "agent-2")).manifest.generation).toBe(0);

    const second = byId(await importAll({}, failing));
    expect(second["acme/agent-1"].outcome).toBe("up to date");
    expect(second["acme/agent-2"].outcome).toBe("failed");

    const rerun = await importAll();
    expect(rerun.map(({ id, outcome }) => `${id} ${outcome}`)).toEqual(["acme/agent-1 up to date", "acme/agent-2 imported", "acme/agent-3 up to date"]);
    await fsck("acme", "agent-2");
    expect((await importAll()).map((report) => report.outcome)).toEqual(["up to date", "up to date", "up to date"]);
  });

  test("a crash between storing the pack and committing the row: the rerun imports the repository", async () => {
    const repo = track(richRepository());
    bucket.put("acme", "agent-1", repo.path);
    const crashing = Object.create(manifests) as ManifestStore;
    crashing.commit = () => Promise.reject(new Error("connection lost"));
    const [crashed] = await importAll({}, new Repositories(store, crashing, { compaction: false }));
    expect(crashed).toMatchObject({ outcome: "failed", reason: "connection lost" });
    expect((await store.list("acme/agent-1/packs/")).length).toBe(2);
    expect((await repositories.snapshot("acme", "agent-1")).manifest.generation).toBe(0);

    const [rerun] = await importAll();
    expect(rerun.outcome).toBe("imported");
    // The same objects make the same pack: the one left by the crash is now named by the row.
    expect((await store.list("acme/agent-1/packs/")).length).toBe(2);
    expect(await storedRefs("acme", "agent-1")).toEqual(repo.refs());
    await fsck("acme", "agent-1");
  });

  test("invalid names are skipped; --org and --agent narrow the import", async () => {
    const repo = track(new SourceRepo());
    repo.commit({ "a.md": "a\n" });
    for (const [org, agent] of [["acme", "agent-1"], ["acme", "agent-2"], ["acme", "bad..agent"], ["other", "agent-1"], ["-org", "agent-1"]]) {
      bucket.put(org, agent, repo.path);
    }
    writeFileSync(join(bucket.root, "stray.txt"), "not a repository");
    expect((await importAll({ org: "acme", agent: "agent-2" })).map(({ id, outcome }) => `${id} ${outcome}`)).toEqual(["acme/agent-2 imported"]);
    expect((await importAll({ agent: "agent-1" })).map(({ id, outcome }) => `${id} ${outcome}`)).toEqual([
      "-org/agent-1 skipped",
      "acme/agent-1 imported",
      "other/agent-1 imported",
    ]);
    const all = byId(await importAll());
    expect(all["acme/bad..agent"]).toMatchObject({ outcome: "skipped", reason: expect.stringContaining("invalid agent id") });
    expect(all["-org/agent-1"]).toMatchObject({ outcome: "skipped", reason: expect.stringContaining("invalid organisation") });
    expect(Object.keys(all)).toHaveLength(5);
  });

  test("HEAD on another branch, a symbolic ref, a corrupt ref file and a corrupt loose object are reported", async () => {
    const repo = track(richRepository("master"));
    repo.run("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/master");
    repo.run("update-ref", "refs/remotes/origin/master", "master");
    const gitDir = bucket.put("acme", "agent-1", repo.path);
    writeFileSync(join(gitDir, "refs", "heads", "crashed"), "");
    const blob = repo.run("rev-parse", "feature:c.md");
    writeFileSync(join(gitDir, "objects", blob.slice(0, 2), blob.slice(2)), "not zlib");
    const [report] = await importAll();
    expect(report.outcome).toBe("imported");
    expect(report.skippedRefs.map(({ name }) => name).sort()).toEqual(["refs/heads/crashed", "refs/heads/feature", "refs/remotes/origin/HEAD", "refs/tags/v2"]);
    expect(report.skippedRefs.find(({ name }) => name === "refs/heads/feature")?.reason).toBe(`missing object ${blob}`);
    expect(report.notes).toContain("HEAD is refs/heads/master: stategit's HEAD is refs/heads/main");
    expect(report.notes.some((note) => note.startsWith(`loose object ${blob} is unreadable`))).toBe(true);
    expect((await storedRefs("acme", "agent-1")).get("refs/heads/master")).toBe(repo.run("rev-parse", "master"));
    await fsck("acme", "agent-1");
  });

  test("a ref reaching an object git fsck refuses is skipped, rather than the whole repository", async () => {
    const repo = track(richRepository());
    const emptyTree = repo.run("hash-object", "-t", "tree", "-w", "/dev/null");
    const entry = new Uint8Array([...new TextEncoder().encode("040000 dir\0"), ...Buffer.from(emptyTree, "hex")]);
    const paddedTree = gitText(["hash-object", "-t", "tree", "--literally", "-w", "--stdin"], { cwd: repo.path, input: entry });
    repo.run("update-ref", "refs/heads/odd", repo.run("commit-tree", paddedTree, "-p", "main", "-m", "written by an odd tool"));
    bucket.put("acme", "agent-1", repo.path);
    const [report] = await importAll();
    expect(report).toMatchObject({ outcome: "imported", refs: 6 });
    expect(report.skippedRefs).toEqual([{ name: "refs/heads/odd", reason: expect.stringMatching(new RegExp(`^object ${paddedTree} fails git fsck: .*zero-padded`)) }]);
    await fsck("acme", "agent-1");
  });

  test("damaged source files end in a report per repository, never a crash; what is stored passes git fsck", async () => {
    const repo = track(richRepository());
    const pristine = bucket.put("acme", "pristine", repo.path);
    const files = new FileBlobStore(pristine);
    const keys = (await files.list("")).map(({ key }) => key).filter((key) => classifyGitDirFile(key).kind !== "other");
    const random = seededRandom(0x1e9ac7);
    for (let i = 0; i < 16; i++) {
      const agent = `damaged-${i}`;
      const gitDir = bucket.put("acme", agent, repo.path);
      const key = keys[Math.floor(random() * keys.length)];
      const bytes = readFileSync(join(gitDir, key));
      const at = Math.floor(random() * bytes.length);
      writeFileSync(join(gitDir, key), random() < 0.3 ? bytes.subarray(0, at) : bytes.map((byte, j) => (j === at ? byte ^ (1 + Math.floor(random() * 255)) : byte)));
      const [report] = await importAll({ org: "acme", agent });
      expect(["imported", "nothing to import", "failed"]).toContain(report.outcome);
      if (report.outcome === "imported") await fsck("acme", agent);
    }
  });

  test("a corrupt packed-refs fails its repository with the reason", async () => {
    const repo = track(richRepository());
    const gitDir = bucket.put("acme", "agent-1", repo.path);
    writeFileSync(join(gitDir, "packed-refs"), "garbage\n");
    const [report] = await importAll();
    expect(report).toMatchObject({ outcome: "failed", reason: expect.stringContaining("packed-refs line 1") });
    expect((await repositories.snapshot("acme", "agent-1")).manifest.generation).toBe(0);
  });

  test("a corrupt pack is noted and the refs that need its objects are skipped", async () => {
    const repo = track(richRepository());
    const gitDir = bucket.put("acme", "agent-1", repo.path);
    const packDir = join(gitDir, "objects", "pack");
    const pack = readdirSync(packDir).find((name) => name.endsWith(".pack"))!;
    truncateSync(join(packDir, pack), 100);
    const [report] = await importAll();
    expect(report.outcome).toBe("nothing to import");
    expect(report.notes.some((note) => note.startsWith(`pack ${pack.slice(0, -5)} is unreadable`))).toBe(true);
    expect(report.skippedRefs).toHaveLength(6);
    expect(report.skippedRefs.every(({ reason }) => reason.startsWith("missing object"))).toBe(true);
  });

  test("a repository whose every ref is broken writes nothing", async () => {
    const repo = track(new SourceRepo());
    repo.commit({ "a.md": "a\n" });
    const gitDir = bucket.put("acme", "agent-1", repo.path);
    rmSync(join(gitDir, "objects"), { recursive: true });
    const [report] = await importAll();
    expect(report).toMatchObject({ outcome: "nothing to import", refs: 0 });
    expect(report.skippedRefs.map(({ name }) => name)).toEqual(["refs/heads/main"]);
    expect((await repositories.snapshot("acme", "agent-1")).manifest.generation).toBe(0);
  });
});
