import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultCodec } from "../../src/git/codec/index.ts";
import { ObjectDatabase } from "../../src/git/odb/index.ts";
import { ZERO_OID, type Oid } from "../../src/git/oid.ts";
import { buildPack } from "../../src/git/pack/output/index.ts";
import { receivePack } from "../../src/repo/push.ts";
import type { RefUpdate } from "../../src/git/refname.ts";
import type { ManifestStore } from "../../src/db/manifests.ts";
import { Repositories, type CommitEvent, type RepositoriesOptions } from "../../src/repo/repository.ts";
import { MemoryBlobStore } from "../../src/storage/memory.ts";
import { git, gitText, tempDir } from "../support/git.ts";
import { memoryManifests, Workdir, wrapStore } from "./support.ts";

const ORG = "acme";
const AGENT = "agent-1";
const MAIN = "refs/heads/main";

const work = new Workdir();
afterAll(() => work.cleanup());

/** Three commits on one line of history, and one on a side branch of the first. */
const c1 = work.commit({ "memory/a.md": "one\n" });
const c2 = work.commit({ "memory/a.md": "one\ntwo\n", "memory/b.md": "bee\n" });
const c3 = work.commit({ "memory/b.md": "bee\nbee\n" });
const side = work.commit({ "memory/c.md": "side\n" }, "side", [c1]);

let store: MemoryBlobStore;
let manifests: ManifestStore;
let repos: Repositories;
beforeEach(async () => {
  store = new MemoryBlobStore();
  manifests = await memoryManifests();
  repos = new Repositories(store, manifests, { compaction: false });
});

/** Another instance over the same store and rows. */
const instance = (options: RepositoriesOptions = { compaction: false }) => new Repositories(store, manifests, options);

/** The rows, except for the operations given. */
const wrapManifests = (overrides: Partial<ManifestStore>): ManifestStore => Object.assign(Object.create(manifests) as ManifestStore, overrides);

const update = (ref: string, oldOid: Oid, newOid: Oid): RefUpdate => ({ ref, oldOid, newOid });

async function pushMain(target: Repositories = repos): Promise<void> {
  const result = await target.push(ORG, AGENT, { updates: [update(MAIN, ZERO_OID, c2)], pack: work.pack([c2]) });
  expect(result.statuses).toEqual([{ ref: MAIN, ok: true }]);
}

function storedManifest() {
  return manifests.read(ORG, AGENT);
}

describe("push", () => {
  test("a never-written repository is empty with HEAD on an unborn main", async () => {
    const snapshot = await repos.snapshot(ORG, AGENT);
    expect(snapshot.head).toBe(MAIN);
    expect(snapshot.refs.size).toBe(0);
    expect(snapshot.manifest.generation).toBe(0);
    expect(await store.list("")).toEqual([]);
  });

  test("the first push creates the manifest and one self-contained pack git can verify", async () => {
    await pushMain();
    const manifest = (await storedManifest())!;
    expect(manifest.generation).toBe(1);
    expect(manifest.refs).toEqual(new Map([[MAIN, c2]]));
    expect(manifest.packs.length).toBe(1);
    const snapshot = await repos.snapshot(ORG, AGENT);
    expect(snapshot.objects.readObject(c2)?.type).toBe("commit");

    const dir = tempDir();
    try {
      const base = join(dir.path, manifest.packs[0]);
      writeFileSync(`${base}.pack`, (await store.get(`${ORG}/${AGENT}/packs/${manifest.packs[0]}.pack`))!);
      writeFileSync(`${base}.idx`, (await store.get(`${ORG}/${AGENT}/packs/${manifest.packs[0]}.idx`))!);
      git(["verify-pack", `${base}.idx`]);
    } finally {
      dir.cleanup();
    }
  });

  test("a stale old id is refused with fetch first and changes nothing", async () => {
    await pushMain();
    const result = await repos.push(ORG, AGENT, { updates: [update(MAIN, c1, c3)], pack: work.pack([c3], [c2]) });
    expect(result.statuses).toEqual([{ ref: MAIN, ok: false, reason: "fetch first" }]);
    expect((await storedManifest())!.generation).toBe(1);
  });

  test("fast-forward is accepted; non-fast-forward only with allowForcePush", async () => {
    await pushMain();
    const ff = await repos.push(ORG, AGENT, { updates: [update(MAIN, c2, c3)], pack: work.pack([c3], [c2]) });
    expect(ff.statuses).toEqual([{ ref: MAIN, ok: true }]);
    const sidePack = work.pack([side], [c3]);
    const refused = await repos.push(ORG, AGENT, { updates: [update(MAIN, c3, side)], pack: sidePack });
    expect(refused.statuses).toEqual([{ ref: MAIN, ok: false, reason: "non-fast-forward" }]);
    expect((await repos.snapshot(ORG, AGENT)).refs.get(MAIN)).toBe(c3);
    const forced = await repos.push(ORG, AGENT, { updates: [update(MAIN, c3, side)], pack: sidePack, allowForcePush: true });
    expect(forced.statuses).toEqual([{ ref: MAIN, ok: true }]);
    expect((await repos.snapshot(ORG, AGENT)).refs.get(MAIN)).toBe(side);
  });

  test("non-fast-forward rules apply to branches only; tags may move", async () => {
    await pushMain();
    await repos.push(ORG, AGENT, { updates: [update("refs/tags/v1", ZERO_OID, c2)] });
    const moved = await repos.push(ORG, AGENT, { updates: [update("refs/tags/v1", c2, c1)] });
    expect(moved.statuses).toEqual([{ ref: "refs/tags/v1", ok: true }]);
  });

  test("deleting the default branch needs allowForcePush; other branches may go", async () => {
    await pushMain();
    await repos.push(ORG, AGENT, { updates: [update("refs/heads/topic", ZERO_OID, c1)] });
    const refused = await repos.push(ORG, AGENT, { updates: [update(MAIN, c2, ZERO_OID)] });
    expect(refused.statuses).toEqual([{ ref: MAIN, ok: false, reason: "deletion of the current branch prohibited" }]);
    const topic = await repos.push(ORG, AGENT, { updates: [update("refs/heads/topic", c1, ZERO_OID)] });
    expect(topic.statuses).toEqual([{ ref: "refs/heads/topic", ok: true }]);
    const forced = await repos.push(ORG, AGENT, { updates: [update(MAIN, c2, ZERO_OID)], allowForcePush: true });
    expect(forced.statuses).toEqual([{ ref: MAIN, ok: true }]);
    expect((await repos.snapshot(ORG, AGENT)).refs.size).toBe(0);
  });

  test("a ref to an object neither pushed nor stored is refused", async () => {
    const result = await repos.push(ORG, AGENT, { updates: [update(MAIN, ZERO_OID, c2)] });
    expect(result.statuses).toEqual([{ ref: MAIN, ok: false, reason: "missing necessary objects" }]);
    expect(await storedManifest()).toBeUndefined();
  });

  test("a pack whose objects refer to missing ones is refused and not stored", async () => {
    await repos.push(ORG, AGENT, { updates: [update(MAIN, ZERO_OID, c1)], pack: work.pack([c1]) });
    // c3's pack without c2's objects: c3's parent and c2's blobs are missing.
    const result = await repos.push(ORG, AGENT, { updates: [update(MAIN, c1, c3)], pack: work.pack([c3], [c2]) });
    expect(result.statuses).toEqual([{ ref: MAIN, ok: false, reason: "missing necessary objects" }]);
    expect((await storedManifest())!.packs.length).toBe(1);
    expect((await store.list(`${ORG}/${AGENT}/packs/`)).length).toBe(2);
  });

  test("a corrupt pack fails to unpack and changes nothing", async () => {
    const pack = work.pack([c2]);
    pack[pack.length - 1] ^= 1;
    const result = await repos.push(ORG, AGENT, { updates: [update(MAIN, ZERO_OID, c2)], pack });
    expect(result.unpackError).toBeDefined();
    expect(result.statuses).toEqual([{ ref: MAIN, ok: false, reason: "unpacker error" }]);
    expect(await store.list("")).toEqual([]);
  });

  test("an object fsck refuses fails the unpack", async () => {
    const bad = tempDir();
    try {
      git(["init", "-q", bad.path]);
      const badCommit = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor nobody 1700000000 +0000\ncommitter A <a@b> 1700000000 +0000\n\nbad\n";
      const oid = gitText(["hash-object", "-t", "commit", "-w", "--literally", "--stdin"], { cwd: bad.path, input: badCommit });
      const pack = git(["pack-objects", "--stdout", "-q"], { cwd: bad.path, input: `${oid}\n` }).stdout;
      const result = await repos.push(ORG, AGENT, { updates: [update(MAIN, ZERO_OID, oid)], pack });
      expect(result.unpackError).toContain(oid);
      expect(await store.list("")).toEqual([]);
    } finally {
      bad.cleanup();
    }
  });

  test("ref names, branch targets, duplicates and name conflicts", async () => {
    await pushMain();
    const tree = gitText(["rev-parse", `${c2}^{tree}`], { cwd: work.path });
    const result = await repos.push(ORG, AGENT, {
      updates: [
        update("refs/heads/bad..name", ZERO_OID, c2),
        update("HEAD", ZERO_OID, c2),
        update("refs/heads/tree", ZERO_OID, tree),
        update("refs/tags/tree", ZERO_OID, tree),
        update("refs/heads/main/sub", ZERO_OID, c2),
        update("refs/heads/dup", ZERO_OID, c2),
        update("refs/heads/dup", ZERO_OID, c1),
      ],
    });
    expect(result.statuses).toEqual([
      { ref: "refs/heads/bad..name", ok: false, reason: "funny refname" },
      { ref: "HEAD", ok: false, reason: "funny refname" },
      { ref: "refs/heads/tree", ok: false, reason: "branches must point to commits" },
      { ref: "refs/tags/tree", ok: true },
      { ref: "refs/heads/main/sub", ok: false, reason: "cannot create refs/heads/main/sub: refs/heads/main exists" },
      { ref: "refs/heads/dup", ok: false, reason: "duplicate ref update" },
      { ref: "refs/heads/dup", ok: false, reason: "duplicate ref update" },
    ]);
    expect([...(await repos.snapshot(ORG, AGENT)).refs.keys()].sort()).toEqual([MAIN, "refs/tags/tree"]);
  });

  test("atomic: one stale ref fails them all; without atomic the others go through", async () => {
    await pushMain();
    const updates = [update(MAIN, c2, c3), update("refs/heads/topic", c1, c2)];
    const pack = work.pack([c3], [c2]);
    const atomic = await repos.push(ORG, AGENT, { updates, pack, atomic: true });
    expect(atomic.statuses).toEqual([
      { ref: MAIN, ok: false, reason: "atomic push failure" },
      { ref: "refs/heads/topic", ok: false, reason: "fetch first" },
    ]);
    expect((await storedManifest())!.generation).toBe(1);
    const partial = await repos.push(ORG, AGENT, { updates, pack });
    expect(partial.statuses).toEqual([
      { ref: MAIN, ok: true },
      { ref: "refs/heads/topic", ok: false, reason: "fetch first" },
    ]);
  });

  test("a thin pack is completed with its bases from the repository", async () => {
    await pushMain();
    const thin = work.pack([c3], [c2], true);
    const result = await repos.push(ORG, AGENT, { updates: [update(MAIN, c2, c3)], pack: thin });
    expect(result.statuses).toEqual([{ ref: MAIN, ok: true }]);
    const fresh = instance();
    const snapshot = await fresh.snapshot(ORG, AGENT);
    const blob = gitText(["rev-parse", `${c3}:memory/b.md`], { cwd: work.path });
    expect(new TextDecoder().decode(snapshot.objects.readObject(blob)!.data)).toBe("bee\nbee\n");
    const newest = snapshot.manifest.packs.at(-1)!;
    const dir = tempDir();
    try {
      writeFileSync(join(dir.path, "thin.pack"), (await store.get(`${ORG}/${AGENT}/packs/${newest}.pack`))!);
      // Outside any repository: every delta base must be in the pack itself.
      git(["index-pack", join(dir.path, "thin.pack")]);
    } finally {
      dir.cleanup();
    }
  });

  test("two concurrent pushes from the same old id: exactly one wins", async () => {
    await pushMain();
    const other = instance();
    const pack = work.pack([c3, side], [c2]);
    const results = await Promise.all([
      repos.push(ORG, AGENT, { updates: [update(MAIN, c2, c3)], pack }),
      other.push(ORG, AGENT, { updates: [update(MAIN, c2, side)], pack, allowForcePush: true }),
    ]);
    const statuses = results.map((result) => result.statuses[0]);
    expect(statuses.filter((status) => status.ok).length).toBe(1);
    expect(statuses.find((status) => !status.ok)).toEqual({ ref: MAIN, ok: false, reason: "fetch first" });
    const winner = statuses[0].ok ? c3 : side;
    expect((await storedManifest())!.refs.get(MAIN)).toBe(winner);
    expect((await repos.snapshot(ORG, AGENT)).refs.get(MAIN)).toBe(winner);
    expect((await other.snapshot(ORG, AGENT)).refs.get(MAIN)).toBe(winner);
  });

  test("concurrent pushes to different refs both land after a lost race", async () => {
    await pushMain();
    const other = instance();
    const results = await Promise.all([
      repos.push(ORG, AGENT, { updates: [update("refs/heads/a", ZERO_OID, c1)] }),
      other.push(ORG, AGENT, { updates: [update("refs/heads/b", ZERO_OID, c2)] }),
    ]);
    expect(results.map((result) => result.statuses[0].ok)).toEqual([true, true]);
    const manifest = (await storedManifest())!;
    expect(manifest.generation).toBe(3);
    expect(manifest.refs).toEqual(new Map([[MAIN, c2], ["refs/heads/a", c1], ["refs/heads/b", c2]]));
  });

  test("updates still accepted after every commit race was lost are refused, not applied", async () => {
    await pushMain();
    let swaps = 0;
    const losing = new Repositories(
      store,
      wrapManifests({
        commit: async () => {
          swaps++;
          return false;
        },
      }),
      { compaction: false },
    );
    const result = await losing.push(ORG, AGENT, { updates: [update("refs/heads/topic", ZERO_OID, c1)] });
    expect(result.statuses).toEqual([{ ref: "refs/heads/topic", ok: false, reason: "failed to lock" }]);
    expect(swaps).toBe(5);
    expect((await storedManifest())!.generation).toBe(1);
  });

  test("an interrupted push leaves the repository exactly as before", async () => {
    await pushMain();
    let failing: "createOnly" | "commit" = "createOnly";
    const broken = new Repositories(
      wrapStore(store, {
        createOnly: async (key, data) => {
          if (failing === "createOnly" && key.endsWith(".idx")) throw new Error("disk full");
          return store.createOnly(key, data);
        },
      }),
      wrapManifests({
        commit: async (...args) => {
          if (failing === "commit") throw new Error("connection reset");
          return manifests.commit(...args);
        },
      }),
      { compaction: false },
    );
    const request = { updates: [update(MAIN, c2, c3)], pack: work.pack([c3], [c2]) };
    for (const mode of ["createOnly", "commit"] as const) {
      failing = mode;
      await expect(broken.push(ORG, AGENT, request)).rejects.toThrow();
      expect((await storedManifest())!.generation).toBe(1);
      expect((await instance({}).snapshot(ORG, AGENT)).refs.get(MAIN)).toBe(c2);
      expect((await broken.snapshot(ORG, AGENT)).refs.get(MAIN)).toBe(c2);
    }
  });

  test("a repository rule refuses an update with its lines for the user; accepted updates still land", async () => {
    const seen: Oid[] = [];
    const request = {
      updates: [update(MAIN, ZERO_OID, c2), update("refs/heads/side", ZERO_OID, side)],
      pack: work.pack([c2, side]),
      checkUpdate: (candidate: RefUpdate, objects: { hasObject(oid: Oid): boolean }) => {
        seen.push(candidate.newOid);
        expect(objects.hasObject(candidate.newOid)).toBe(true);
        return candidate.ref === MAIN ? { refusal: "memory rules", messages: ["memory/a.md: too long", "memory/b.md: no description"] } : { messages: ["side: fine"] };
      },
    };
    const result = await repos.push(ORG, AGENT, request);
    expect(result.statuses).toEqual([
      { ref: MAIN, ok: false, reason: "memory rules" },
      { ref: "refs/heads/side", ok: true },
    ]);
    expect(result.messages).toEqual(["memory/a.md: too long", "memory/b.md: no description", "side: fine"]);
    expect(seen).toEqual([c2, side]);
    expect((await storedManifest())!.refs).toEqual(new Map([["refs/heads/side", side]]));
  });

  test("work in the commit's transaction sees the pushed objects and the new generation; its failure commits nothing", async () => {
    let failing = false;
    const pending: { generation: number; hasNew: boolean }[] = [];
    const transactional = instance({
      compaction: false,
      inTransaction: ({ objects, updates, generation }) => {
        pending.push({ generation, hasNew: objects.hasObject(updates[0].newOid) });
        return async () => {
          if (failing) throw new Error("mirror write failed");
        };
      },
    });
    await pushMain(transactional);
    expect(pending).toEqual([{ generation: 1, hasNew: true }]);
    failing = true;
    await expect(transactional.push(ORG, AGENT, { updates: [update(MAIN, c2, c3)], pack: work.pack([c3], [c2]) })).rejects.toThrow("mirror write failed");
    expect((await storedManifest())!.refs.get(MAIN)).toBe(c2);
    expect((await transactional.snapshot(ORG, AGENT)).refs.get(MAIN)).toBe(c2);
  });

  test("the commit hook sees every committed change; its failure is a warning", async () => {
    const events: CommitEvent[] = [];
    const hooked = instance({
      compaction: false,
      onCommit: (event) => {
        events.push(event);
        if (event.updates.some(({ ref }) => ref === "refs/heads/fail")) throw new Error("database is down");
        return ["mirror updated"];
      },
    });
    const ok = await hooked.push(ORG, AGENT, { updates: [update(MAIN, ZERO_OID, c2)], pack: work.pack([c2]), pushOptions: ["x=1"] });
    expect(ok.messages).toEqual(["mirror updated"]);
    expect(events[0].after.manifest.generation).toBe(1);
    expect(events[0].before.manifest.generation).toBe(0);
    expect(events[0].pushOptions).toEqual(["x=1"]);
    const failed = await hooked.push(ORG, AGENT, { updates: [update("refs/heads/fail", ZERO_OID, c1)] });
    expect(failed.statuses).toEqual([{ ref: "refs/heads/fail", ok: true }]);
    expect(failed.messages[0]).toContain("database is down");
    await hooked.push(ORG, AGENT, { updates: [update(MAIN, ZERO_OID, c1)] });
    expect(events.length).toBe(2);
  });
});

describe("receivePack", () => {
  test("keeps a pack that arrived in shared memory where it lies: the push holds the pack once", async () => {
    const blobs = ["one\n", "two\n", "three\n"].map((text) => ({ type: "blob" as const, data: new TextEncoder().encode(text) }));
    const built = await buildPack(blobs, { codec: defaultCodec });
    const pack = new Uint8Array(new SharedArrayBuffer(built.length + 8), 8, built.length);
    pack.set(built);
    const incoming = receivePack(new ObjectDatabase(defaultCodec), pack, defaultCodec);
    expect(incoming.pack?.pack).toBe(pack);
    expect(incoming.pack?.file.objectCount).toBe(3);
    expect(incoming.dangling).toBeUndefined();
  });
});
