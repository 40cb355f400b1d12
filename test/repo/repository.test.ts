import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { serializeCommit, serializeTree, type Commit } from "../../src/git/object/index.ts";
import { hashObject, type GitObject } from "../../src/git/object/object.ts";
import { nativeCodec } from "../../src/git/codec/index.ts";
import { ZERO_OID, type Oid } from "../../src/git/oid.ts";
import type { RefUpdate } from "../../src/git/refname.ts";
import { parseManifest } from "../../src/repo/manifest.ts";
import { Repositories } from "../../src/repo/repository.ts";
import { FileBlobStore } from "../../src/storage/file.ts";
import { MemoryBlobStore } from "../../src/storage/memory.ts";
import { tempDir } from "../support/git.ts";
import { Workdir, wrapStore } from "./support.ts";

const ORG = "acme";
const MAIN = "refs/heads/main";
const work = new Workdir();
afterAll(() => work.cleanup());

/** Five commits, each adding a file. */
const commits: Oid[] = [];
for (let i = 0; i < 5; i++) commits.push(work.commit({ [`memory/note-${i}.md`]: `note ${i}\n`.repeat(20 + i) }));

let store: MemoryBlobStore;
let calls: Record<string, string[]>;
/** The store, counting each call by operation (for cache behaviour). */
let counted: ReturnType<typeof wrapStore>;

beforeEach(() => {
  store = new MemoryBlobStore();
  calls = { get: [], generation: [], list: [] };
  counted = wrapStore(store, {
    get: (key) => (calls.get.push(key), store.get(key)),
    generation: (key) => (calls.generation.push(key), store.generation(key)),
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
  test("an unchanged repository costs one generation() call per open and no reads", async () => {
    await pushHistory(new Repositories(store, { compaction: false }), "a", 2);
    const repos = new Repositories(counted, { compaction: false });
    const first = await repos.snapshot(ORG, "a");
    expect(calls.get.length).toBe(1 + 2 * 2);
    calls.get = [];
    calls.generation = [];
    const again = await repos.snapshot(ORG, "a");
    expect(again).toBe(first);
    expect(calls).toEqual({ get: [], generation: [`${ORG}/a/manifest.json`], list: [] });
  });

  test("a change made elsewhere is seen, and only the new pack is read", async () => {
    const writer = new Repositories(store, { compaction: false });
    await pushHistory(writer, "a", 2);
    const repos = new Repositories(counted, { compaction: false });
    await repos.snapshot(ORG, "a");
    await writer.push(ORG, "a", { updates: [update(MAIN, commits[1], commits[2])], pack: work.pack([commits[2]], [commits[1]]) });
    calls.get = [];
    const snapshot = await repos.snapshot(ORG, "a");
    expect(snapshot.refs.get(MAIN)).toBe(commits[2]);
    expect(calls.get.filter((key) => key.includes("/packs/")).length).toBe(2);
  });

  test("concurrent opens share one load", async () => {
    await pushHistory(new Repositories(store, { compaction: false }), "a", 3);
    const repos = new Repositories(counted, { compaction: false });
    const snapshots = await Promise.all(Array.from({ length: 10 }, () => repos.snapshot(ORG, "a")));
    expect(new Set(snapshots).size).toBe(1);
    expect(calls.get.filter((key) => key.endsWith("manifest.json")).length).toBe(1);
    expect(calls.get.length).toBe(1 + 3 * 2);
  });

  test("repositories beyond the byte budget are evicted least recently used first", async () => {
    const writer = new Repositories(store, { compaction: false });
    await pushHistory(writer, "a", 2);
    await pushHistory(writer, "b", 2);
    const repos = new Repositories(counted, { compaction: false, cacheBytes: 1, objectCacheBytes: 0 });
    await repos.snapshot(ORG, "a");
    await repos.snapshot(ORG, "b");
    calls.get = [];
    await repos.snapshot(ORG, "b");
    expect(calls.get).toEqual([]);
    await repos.snapshot(ORG, "a");
    expect(calls.get.length).toBe(1 + 2 * 2);
  });

  test("a manifest naming a pack that compaction deleted is read again", async () => {
    const writer = new Repositories(store, { compaction: false });
    await pushHistory(writer, "a", 3);
    let stale: Uint8Array | undefined;
    const repos = new Repositories(
      wrapStore(store, {
        get: async (key) => {
          const blob = await store.get(key);
          if (!key.endsWith("manifest.json") || stale === undefined || !blob) return blob;
          const first = { data: stale, generation: blob.generation };
          stale = undefined;
          return first;
        },
      }),
      { compaction: false },
    );
    stale = (await store.get(`${ORG}/a/manifest.json`))!.data;
    await writer.compact(ORG, "a", { maxPacks: 1, gracePeriodMs: 0 });
    const snapshot = await repos.snapshot(ORG, "a");
    expect(snapshot.manifest.packs.length).toBe(1);
    expect(snapshot.refs.get(MAIN)).toBe(commits[2]);
  });

  test("invalid organisation or agent names are refused before any storage access", async () => {
    const repos = new Repositories(counted);
    await expect(repos.snapshot("../x", "a")).rejects.toThrow("invalid");
    await expect(repos.snapshot(ORG, "a/b")).rejects.toThrow("invalid");
    expect(calls.generation).toEqual([]);
  });
});

describe("file store", () => {
  test("pushes, concurrent writers and compaction work on the file store across instances", async () => {
    const dir = tempDir();
    try {
      const first = new Repositories(new FileBlobStore(dir.path), { compaction: false });
      await pushHistory(first, "a", 3);
      const second = new Repositories(new FileBlobStore(dir.path), { compaction: false });
      const results = await Promise.all([
        first.push(ORG, "a", { updates: [update("refs/heads/x", ZERO_OID, commits[0])] }),
        second.push(ORG, "a", { updates: [update("refs/heads/y", ZERO_OID, commits[1])] }),
      ]);
      expect(results.map(({ statuses }) => statuses[0].ok)).toEqual([true, true]);
      expect((await second.compact(ORG, "a", { maxPacks: 1, gracePeriodMs: 0 })).mergedPacks).toBe(3);
      const snapshot = await new Repositories(new FileBlobStore(dir.path)).snapshot(ORG, "a");
      expect(snapshot.manifest.generation).toBe(6);
      expect([...snapshot.refs.keys()].sort()).toEqual([MAIN, "refs/heads/x", "refs/heads/y"]);
      expect(snapshot.objects.readObject(commits[2])?.type).toBe("commit");
    } finally {
      dir.cleanup();
    }
  });
});

describe("compaction", () => {
  test("merges packs into one that holds every object, and deletes the old files", async () => {
    const repos = new Repositories(store, { compaction: false });
    await pushHistory(repos, "a");
    const before = await repos.snapshot(ORG, "a");
    const objects = [...before.objects.packs].flatMap((pack) => [...pack.oids()]);
    expect(before.manifest.packs.length).toBe(5);

    const result = await repos.compact(ORG, "a", { maxPacks: 4, gracePeriodMs: 0 });
    expect(result.mergedPacks).toBe(5);
    expect(result.deleted.length).toBe(10);
    const manifest = parseManifest((await store.get(`${ORG}/a/manifest.json`))!.data);
    expect(manifest.packs).toEqual([result.pack!]);
    expect(manifest.refs).toEqual(before.refs);
    expect((await store.list(`${ORG}/a/packs/`)).map(({ key }) => key)).toEqual([`${ORG}/a/packs/${result.pack}.idx`, `${ORG}/a/packs/${result.pack}.pack`]);

    const fresh = await new Repositories(store).snapshot(ORG, "a");
    for (const oid of objects) expect(fresh.objects.hasObject(oid)).toBe(true);
    expect(fresh.objects.readObject(commits[4])?.type).toBe("commit");
  });

  test("does nothing at or under maxPacks; keeps young garbage, deletes old garbage", async () => {
    const repos = new Repositories(store, { compaction: false });
    await pushHistory(repos, "a", 2);
    await store.createOnly(`${ORG}/a/packs/pack-${"1".repeat(40)}.pack`, new Uint8Array(1));
    expect(await repos.compact(ORG, "a", { maxPacks: 2, gracePeriodMs: 60_000 })).toEqual({ mergedPacks: 0, deleted: [] });
    expect(await repos.compact(ORG, "a", { maxPacks: 2, gracePeriodMs: 0 })).toEqual({ mergedPacks: 0, deleted: [`${ORG}/a/packs/pack-${"1".repeat(40)}.pack`] });
    expect((await store.list(`${ORG}/a/packs/`)).length).toBe(4);
  });

  test("a push racing the compaction keeps its pack", async () => {
    const repos = new Repositories(store, { compaction: false });
    await pushHistory(repos, "a", 3);
    const pusher = new Repositories(store, { compaction: false });
    let raced = false;
    const compactor = new Repositories(
      wrapStore(store, {
        compareAndSwap: async (key, data, expected) => {
          if (!raced) {
            raced = true;
            const result = await pusher.push(ORG, "a", { updates: [update(MAIN, commits[2], commits[3])], pack: work.pack([commits[3]], [commits[2]]) });
            expect(result.statuses[0].ok).toBe(true);
          }
          return store.compareAndSwap(key, data, expected);
        },
      }),
      { compaction: false },
    );
    const result = await compactor.compact(ORG, "a", { maxPacks: 1, gracePeriodMs: 0 });
    expect(result.mergedPacks).toBe(3);
    const snapshot = await new Repositories(store).snapshot(ORG, "a");
    expect(snapshot.refs.get(MAIN)).toBe(commits[3]);
    expect(snapshot.manifest.packs.length).toBe(2);
    expect(snapshot.objects.readObject(commits[3])?.type).toBe("commit");
  });

  test("runs in the background once a write leaves more than maxPacks", async () => {
    const repos = new Repositories(store, { compaction: { maxPacks: 3, gracePeriodMs: 0 } });
    await pushHistory(repos, "a");
    await repos.idle();
    const manifest = parseManifest((await store.get(`${ORG}/a/manifest.json`))!.data);
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
    const repos = new Repositories(store, { compaction: false });
    const other = new Repositories(store, { compaction: false });
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
    const snapshot = await new Repositories(store).snapshot(ORG, "a");
    expect(snapshot.refs.get(MAIN)).toBe(result.result);
    expect(snapshot.objects.readObject(result.result)?.type).toBe("commit");
  });
});
