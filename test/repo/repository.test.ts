import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { serializeCommit, serializeTree, type Commit } from "../../src/git/object/index.ts";
import { hashObject, type GitObject } from "../../src/git/object/object.ts";
import { nativeCodec } from "../../src/git/codec/index.ts";
import { ZERO_OID, type Oid } from "../../src/git/oid.ts";
import type { RefUpdate } from "../../src/git/refname.ts";
import { ManifestStore } from "../../src/db/manifests.ts";
import { openDatabase } from "../../src/db/open.ts";
import { Repositories, type RepositoriesOptions } from "../../src/repo/repository.ts";
import type { BlobStore } from "../../src/storage/blob-store.ts";
import { FileBlobStore } from "../../src/storage/file.ts";
import { MemoryBlobStore } from "../../src/storage/memory.ts";
import { gitText, tempDir } from "../support/git.ts";
import { memoryManifests, Workdir, wrapStore } from "./support.ts";

const ORG = "acme";
const MAIN = "refs/heads/main";
const work = new Workdir();
afterAll(() => work.cleanup());

/** Five commits, each adding a file. */
const commits: Oid[] = [];
for (let i = 0; i < 5; i++) commits.push(work.commit({ [`memory/note-${i}.md`]: `note ${i}\n`.repeat(20 + i) }));

let store: MemoryBlobStore;
let manifests: ManifestStore;
let calls: { get: string[]; generation: string[]; read: string[] };
/** The store and the manifest rows, counting each call by operation (for cache behaviour). */
let counted: BlobStore;
let countedManifests: ManifestStore;

/** Repositories over the test's store and manifest rows (or others given). */
const repositories = (options: RepositoriesOptions = { compaction: false }, blobs: BlobStore = store, rows: ManifestStore = manifests) =>
  new Repositories(blobs, rows, options);

beforeEach(async () => {
  store = new MemoryBlobStore();
  manifests = await memoryManifests();
  calls = { get: [], generation: [], read: [] };
  counted = wrapStore(store, { get: (key) => (calls.get.push(key), store.get(key)) });
  countedManifests = Object.assign(Object.create(manifests) as ManifestStore, {
    generation: (org: string, repo: string) => (calls.generation.push(`${org}/${repo}`), manifests.generation(org, repo)),
    read: (org: string, repo: string) => (calls.read.push(`${org}/${repo}`), manifests.read(org, repo)),
  });
});

const update = (ref: string, oldOid: Oid, newOid: Oid): RefUpdate => ({ ref, oldOid, newOid });

/** Pushes commits[0..count) to main of `agent`, one push (one pack) each. */
async function pushHistory(repos: Repositories, agent: string, count = commits.length): Promise<void> {
  for (let i = 0; i < count; i++) {
    const result = await repos.push(ORG, agent, {
      updates: [update(MAIN, i === 0 ? ZERO_OID : commits[i - 1], commits[i])],
      pack: work.pack([commits[i]], i === 0 ? [] : [commits[i - 1]]),
    });
    expect(result.statuses[0]).toEqual({ ref: MAIN, ok: true });
  }
}

describe("Repositories cache", () => {
  test("an unchanged repository costs one generation read per open and no other reads", async () => {
    await pushHistory(repositories(), "a", 2);
    const repos = repositories({ compaction: false }, counted, countedManifests);
    const first = await repos.snapshot(ORG, "a");
    expect(calls.get.length).toBe(2 * 2);
    expect(calls.read).toEqual([`${ORG}/a`]);
    calls.get = [];
    calls.generation = [];
    calls.read = [];
    const again = await repos.snapshot(ORG, "a");
    expect(again).toBe(first);
    expect(calls).toEqual({ get: [], generation: [`${ORG}/a`], read: [] });
  });

  test("a never-written repository is looked for in the store's old layout once, then costs one generation read", async () => {
    const repos = repositories({ compaction: false }, counted, countedManifests);
    expect((await repos.snapshot(ORG, "new")).refs.size).toBe(0);
    expect(calls.get).toEqual([`${ORG}/new/manifest.json`]);
    calls.get = [];
    calls.generation = [];
    expect((await repos.snapshot(ORG, "new")).refs.size).toBe(0);
    expect(calls).toEqual({ get: [], generation: [`${ORG}/new`], read: [] });
  });

  test("a change made elsewhere is seen, and only the new pack is read", async () => {
    const writer = repositories();
    await pushHistory(writer, "a", 2);
    const repos = repositories({ compaction: false }, counted, countedManifests);
    await repos.snapshot(ORG, "a");
    await writer.push(ORG, "a", { updates: [update(MAIN, commits[1], commits[2])], pack: work.pack([commits[2]], [commits[1]]) });
    calls.get = [];
    const snapshot = await repos.snapshot(ORG, "a");
    expect(snapshot.refs.get(MAIN)).toBe(commits[2]);
    expect(calls.get.filter((key) => key.includes("/packs/")).length).toBe(2);
  });

  test("concurrent opens share one load", async () => {
    await pushHistory(repositories(), "a", 3);
    const repos = repositories({ compaction: false }, counted, countedManifests);
    const snapshots = await Promise.all(Array.from({ length: 10 }, () => repos.snapshot(ORG, "a")));
    expect(new Set(snapshots).size).toBe(1);
    expect(calls.read.length).toBe(1);
    expect(calls.get.length).toBe(3 * 2);
  });

  test("repositories beyond the byte budget are evicted least recently used first", async () => {
    const writer = repositories();
    await pushHistory(writer, "a", 2);
    await pushHistory(writer, "b", 2);
    const repos = repositories({ compaction: false, cacheBytes: 1, objectCacheBytes: 0 }, counted, countedManifests);
    await repos.snapshot(ORG, "a");
    await repos.snapshot(ORG, "b");
    calls.get = [];
    await repos.snapshot(ORG, "b");
    expect(calls.get).toEqual([]);
    await repos.snapshot(ORG, "a");
    expect(calls.get.length).toBe(2 * 2);
  });

  test("a manifest naming a pack that compaction deleted is read again", async () => {
    const writer = repositories();
    await pushHistory(writer, "a", 3);
    let stale = await manifests.read(ORG, "a");
    const staleManifests = Object.assign(Object.create(manifests) as ManifestStore, {
      read: async (org: string, repo: string) => {
        const first = stale;
        stale = undefined;
        return first ?? manifests.read(org, repo);
      },
    });
    const repos = repositories({ compaction: false }, store, staleManifests);
    await writer.compact(ORG, "a", { maxPacks: 1, gracePeriodMs: 0 });
    const snapshot = await repos.snapshot(ORG, "a");
    expect(snapshot.manifest.packs.length).toBe(1);
    expect(snapshot.refs.get(MAIN)).toBe(commits[2]);
  });

  test("a repository written by an older version (manifest.json in the store) is adopted once, by concurrent instances", async () => {
    const elsewhere = repositories({ compaction: false }, store, await memoryManifests());
    await pushHistory(elsewhere, "old", 3);
    const written = await elsewhere.snapshot(ORG, "old");
    const legacy = { version: 1, generation: 3, head: MAIN, refs: Object.fromEntries(written.refs), packs: written.manifest.packs };
    await store.createOnly(`${ORG}/old/manifest.json`, new TextEncoder().encode(JSON.stringify(legacy)));

    const snapshots = await Promise.all(Array.from({ length: 5 }, () => repositories().snapshot(ORG, "old")));
    for (const snapshot of snapshots) {
      expect(snapshot.refs.get(MAIN)).toBe(commits[2]);
      expect(snapshot.manifest.generation).toBe(3);
    }
    expect(await manifests.list()).toEqual([{ org: ORG, repo: "old", generation: 3 }]);
    const result = await repositories().push(ORG, "old", { updates: [update(MAIN, commits[2], commits[3])], pack: work.pack([commits[3]], [commits[2]]) });
    expect(result.statuses[0].ok).toBe(true);
    expect((await manifests.read(ORG, "old"))?.generation).toBe(4);
  });

  test("invalid organisation or agent names are refused before any storage access", async () => {
    const repos = repositories({}, counted, countedManifests);
    await expect(repos.snapshot("../x", "a")).rejects.toThrow("invalid");
    await expect(repos.snapshot(ORG, "a/b")).rejects.toThrow("invalid");
    expect(calls).toEqual({ get: [], generation: [], read: [] });
  });
});

describe("file store and SQLite file", () => {
  test("pushes, concurrent writers and compaction work across instances", async () => {
    const dir = tempDir();
    const opened = [await openDatabase(`sqlite:${dir.path}/a.db`), await openDatabase(`sqlite:${dir.path}/a.db`)];
    const instance = (db: (typeof opened)[number], options?: RepositoriesOptions) => repositories(options, new FileBlobStore(dir.path), new ManifestStore(db));
    try {
      const first = instance(opened[0]);
      await pushHistory(first, "a", 3);
      const second = instance(opened[1]);
      const results = await Promise.all([
        first.push(ORG, "a", { updates: [update("refs/heads/x", ZERO_OID, commits[0])] }),
        second.push(ORG, "a", { updates: [update("refs/heads/y", ZERO_OID, commits[1])] }),
      ]);
      expect(results.map(({ statuses }) => statuses[0].ok)).toEqual([true, true]);
      expect((await second.compact(ORG, "a", { maxPacks: 1, gracePeriodMs: 0 })).mergedPacks).toBe(3);
      const snapshot = await instance(opened[0], {}).snapshot(ORG, "a");
      expect(snapshot.manifest.generation).toBe(6);
      expect([...snapshot.refs.keys()].sort()).toEqual([MAIN, "refs/heads/x", "refs/heads/y"]);
      expect(snapshot.objects.readObject(commits[2])?.type).toBe("commit");
    } finally {
      for (const db of opened) await db.close();
      dir.cleanup();
    }
  });
});

describe("compaction", () => {
  test("merges packs into one that holds every object, and deletes the old files", async () => {
    const repos = repositories();
    await pushHistory(repos, "a");
    const before = await repos.snapshot(ORG, "a");
    const objects = [...before.objects.packs].flatMap((pack) => [...pack.oids()]);
    expect(before.manifest.packs.length).toBe(5);

    const result = await repos.compact(ORG, "a", { maxPacks: 4, gracePeriodMs: 0 });
    expect(result.mergedPacks).toBe(5);
    expect(result.deleted.length).toBe(10);
    const manifest = (await manifests.read(ORG, "a"))!;
    expect(manifest.packs).toEqual([result.pack!]);
    expect(manifest.refs).toEqual(before.refs);
    expect((await store.list(`${ORG}/a/packs/`)).map(({ key }) => key)).toEqual([`${ORG}/a/packs/${result.pack}.idx`, `${ORG}/a/packs/${result.pack}.pack`]);

    const fresh = await repositories({}).snapshot(ORG, "a");
    for (const oid of objects) expect(fresh.objects.hasObject(oid)).toBe(true);
    expect(fresh.objects.readObject(commits[4])?.type).toBe("commit");
  });

  test("does nothing at or under maxPacks; keeps young garbage, deletes old garbage", async () => {
    const repos = repositories();
    await pushHistory(repos, "a", 2);
    await store.createOnly(`${ORG}/a/packs/pack-${"1".repeat(40)}.pack`, new Uint8Array(1));
    expect(await repos.compact(ORG, "a", { maxPacks: 2, gracePeriodMs: 60_000 })).toEqual({ mergedPacks: 0, droppedObjects: 0, deleted: [] });
    expect(await repos.compact(ORG, "a", { maxPacks: 2, gracePeriodMs: 0 })).toEqual({ mergedPacks: 0, droppedObjects: 0, deleted: [`${ORG}/a/packs/pack-${"1".repeat(40)}.pack`] });
    expect((await store.list(`${ORG}/a/packs/`)).length).toBe(4);
  });

  test("a push racing the compaction keeps its pack", async () => {
    const repos = repositories();
    await pushHistory(repos, "a", 3);
    const pusher = repositories();
    let raced = false;
    const racingManifests = Object.assign(Object.create(manifests) as ManifestStore, {
      commit: async (...args: Parameters<ManifestStore["commit"]>) => {
        if (!raced) {
          raced = true;
          const result = await pusher.push(ORG, "a", { updates: [update(MAIN, commits[2], commits[3])], pack: work.pack([commits[3]], [commits[2]]) });
          expect(result.statuses[0].ok).toBe(true);
        }
        return manifests.commit(...args);
      },
    });
    const compactor = repositories({ compaction: false }, store, racingManifests);
    const result = await compactor.compact(ORG, "a", { maxPacks: 1, gracePeriodMs: 0 });
    // The refs moved under the first merge, so it was planned again, over the pushed pack too.
    expect(result.mergedPacks).toBe(4);
    const snapshot = await repositories({}).snapshot(ORG, "a");
    expect(snapshot.refs.get(MAIN)).toBe(commits[3]);
    expect(snapshot.manifest.packs).toEqual([result.pack!]);
    expect(snapshot.objects.readObject(commits[3])?.type).toBe("commit");
  });

  test("drops the objects of a deleted branch once their packs are past the grace period, keeping everything the refs reach", async () => {
    const repos = repositories();
    await pushHistory(repos, "a", 2);
    const topic = work.commit({ "memory/topic.md": "only on the topic branch\n" }, "topic", [commits[1]]);
    const topicBlob = gitText(["rev-parse", `${topic}:memory/topic.md`], { cwd: work.path });
    await repos.push(ORG, "a", { updates: [update("refs/heads/topic", ZERO_OID, topic)], pack: work.pack([topic], [commits[1]]) });
    await repos.push(ORG, "a", { updates: [update("refs/heads/topic", topic, ZERO_OID)] });

    const young = await repos.compact(ORG, "a", { maxPacks: 1, gracePeriodMs: 60 * 60 * 1000, force: true });
    expect(young.droppedObjects).toBe(0);
    expect((await repositories({}).snapshot(ORG, "a")).objects.hasObject(topic)).toBe(true);

    const old = await repos.compact(ORG, "a", { maxPacks: 1, gracePeriodMs: 0, force: true });
    const onlyOnTopic = gitText(["rev-list", "--objects", topic, "--not", commits[1]], { cwd: work.path }).split("\n").length;
    expect(old.droppedObjects).toBe(onlyOnTopic);
    const fresh = await repositories({}).snapshot(ORG, "a");
    expect(fresh.manifest.packs).toEqual([old.pack!]);
    expect(fresh.objects.hasObject(topic)).toBe(false);
    expect(fresh.objects.hasObject(topicBlob)).toBe(false);
    for (const commit of commits.slice(0, 2)) expect(fresh.objects.readObject(commit)?.type).toBe("commit");

    expect(await repos.compact(ORG, "a", { maxPacks: 1, gracePeriodMs: 0, force: true })).toEqual({ mergedPacks: 0, droppedObjects: 0, deleted: [] });
  });

  test("a repository whose refs are all deleted ends with no pack", async () => {
    const repos = repositories();
    await pushHistory(repos, "a", 1);
    await repos.push(ORG, "a", { updates: [update("refs/heads/keep", ZERO_OID, commits[0])] });
    await repos.push(ORG, "a", { updates: [update("refs/heads/keep", commits[0], ZERO_OID)] });
    // The default branch cannot be deleted by a push; a write can.
    await repos.write(ORG, "a", async () => ({ updates: [update(MAIN, commits[0], ZERO_OID)], result: undefined }));
    const result = await repos.compact(ORG, "a", { maxPacks: 1, gracePeriodMs: 0, force: true });
    expect(result.pack).toBeUndefined();
    expect(result.mergedPacks).toBe(1);
    expect((await manifests.read(ORG, "a"))?.packs).toEqual([]);
    expect(await store.list(`${ORG}/a/packs/`)).toEqual([]);
  });

  test("runs in the background once a write leaves more than maxPacks", async () => {
    const repos = repositories({ compaction: { maxPacks: 3, gracePeriodMs: 0 } });
    await pushHistory(repos, "a");
    await repos.idle();
    const manifest = (await manifests.read(ORG, "a"))!;
    expect(manifest.packs.length).toBeLessThanOrEqual(3);
    expect(manifest.refs.get(MAIN)).toBe(commits[4]);
  });
});

describe("write", () => {
  const codec = nativeCodec;
  const identity = { name: new TextEncoder().encode("API"), email: new TextEncoder().encode("api@example.com"), timestamp: 1700000000, timezone: "+0000" };

  function commitObjects(parent: Oid | undefined, text: string): { objects: GitObject[]; commit: Oid } {
    const blob: GitObject = { type: "blob", data: new TextEncoder().encode(text) };
    const tree: GitObject = {
      type: "tree",
      data: serializeTree([{ mode: 0o100644, name: new TextEncoder().encode("note.md"), oid: hashObject(codec, "blob", blob.data) }]),
    };
    const commit: Commit = {
      tree: hashObject(codec, "tree", tree.data),
      parents: parent ? [parent] : [],
      author: identity,
      committer: identity,
      headers: [],
      message: new TextEncoder().encode(`${text}\n`),
    };
    const commitObject: GitObject = { type: "commit", data: serializeCommit(commit) };
    return { objects: [blob, tree, commitObject], commit: hashObject(codec, "commit", commitObject.data) };
  }

  test("commits objects built in memory, planning again after a lost race", async () => {
    const repos = repositories();
    const other = repositories();
    let plans = 0;
    const result = await repos.write(ORG, "a", async (snapshot) => {
      plans++;
      if (plans === 1) await pushHistory(other, "a", 1);
      const parent = snapshot.refs.get(MAIN);
      const { objects, commit } = commitObjects(parent, `written on ${parent ?? "nothing"}`);
      return { updates: [update(MAIN, parent ?? ZERO_OID, commit)], objects, result: commit };
    });
    expect(plans).toBe(2);
    expect(result.committed?.refs.get(MAIN)).toBe(result.result);
    const snapshot = await repositories({}).snapshot(ORG, "a");
    expect(snapshot.refs.get(MAIN)).toBe(result.result);
    expect(snapshot.objects.readObject(result.result)?.type).toBe("commit");
  });

  test("concurrent writes of one repository in one process run one after another: each is planned once, none is lost", async () => {
    const repos = repositories();
    let plans = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        repos.write(ORG, "a", async (snapshot) => {
          plans++;
          const parent = snapshot.refs.get(MAIN);
          const { objects, commit } = commitObjects(parent, `write ${i}`);
          return { updates: [update(MAIN, parent ?? ZERO_OID, commit)], objects, result: commit };
        }),
      ),
    );
    expect(plans).toBe(20);
    expect(results.every(({ committed }) => committed !== undefined)).toBe(true);
    expect((await manifests.read(ORG, "a"))?.generation).toBe(20);
    const failing = await repos.write(ORG, "a", async () => Promise.reject(new Error("plan failed"))).catch((error: Error) => error.message);
    expect(failing).toBe("plan failed");
    expect((await repos.write(ORG, "a", async () => ({ updates: [], result: "after a failure" }))).result).toBe("after a failure");
  });
});
