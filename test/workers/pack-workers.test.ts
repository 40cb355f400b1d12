/**
 * The pack workers against the request thread: pushes, fetches and compaction handed to worker
 * threads give byte for byte what the same work gives on the request thread, a pack that cannot
 * be unpacked fails only its push, and a full queue is answered 503 with Retry-After.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createApp } from "../../src/http/app.ts";
import { SILENT_LOGGER } from "../../src/http/logger.ts";
import { Metrics } from "../../src/http/metrics.ts";
import { ZERO_OID, type Oid } from "../../src/git/oid.ts";
import { knownPackReferences, packReferences } from "../../src/git/pack/references.ts";
import { PktLineBuilder } from "../../src/git/pktline/index.ts";
import { cachedClonePack } from "../../src/protocol/clone-cache.ts";
import { SMALL_PACK_OBJECTS, SMALL_WHOLE_PACK_BYTES } from "../../src/protocol/pack-job.ts";
import { uploadPack } from "../../src/protocol/upload-pack.ts";
import type { ManifestStore } from "../../src/db/manifests.ts";
import { Repositories } from "../../src/repo/repository.ts";
import { MemoryBlobStore } from "../../src/storage/memory.ts";
import { PackWorkers } from "../../src/workers/pack-workers.ts";
import { readAll } from "../protocol/response.ts";
import { memoryManifests, Workdir } from "../repo/support.ts";

const ORG = "acme";
const MAIN = "refs/heads/main";
const work = new Workdir();
/** A small start, a commit of more files than a small fetch holds, then small edits. */
const commits: Oid[] = [work.commit({ "notes/a.md": "a\n" })];
commits.push(work.commit(Object.fromEntries(Array.from({ length: SMALL_PACK_OBJECTS + 50 }, (_, i) => [`bulk/file-${i}.md`, `bulk ${i}\n`.repeat(10 + i)]))));
for (let i = 0; i < 3; i++) commits.push(work.commit({ [`bulk/file-${i}.md`]: `edited ${i}\n`.repeat(30), [`notes/${i}.md`]: `note ${i}\n` }));

let jobs = 0;
const workers = new PackWorkers({
  size: 2,
  queueLimit: 8,
  // Small enough that workers let packs go and are sent them again.
  heldBytesPerWorker: 16 * 1024,
  // Every pushed pack goes to a worker, however small (a test below checks the default).
  smallReceivedPackBytes: 0,
  observer: { queueLength() {}, busyWorkers() {}, busy: () => void jobs++ },
});
afterAll(() => {
  workers.close();
  work.cleanup();
});

async function pushedRepositories(offloaded: boolean, store = new MemoryBlobStore(), manifests?: ManifestStore): Promise<Repositories> {
  const repos = new Repositories(store, manifests ?? (await memoryManifests()), { compaction: false, packWork: offloaded ? workers : undefined });
  for (let i = 0; i < commits.length; i++) {
    const pack = work.pack([commits[i]], i === 0 ? [] : [commits[i - 1]], true);
    const result = await repos.push(ORG, "a", { updates: [{ ref: MAIN, oldOid: i === 0 ? ZERO_OID : commits[i - 1], newOid: commits[i] }], pack });
    expect(result.statuses[0]).toEqual({ ref: MAIN, ok: true });
  }
  return repos;
}

const onThread = await pushedRepositories(false);
/** Where the offloaded repositories live, for a second Repositories that reads them from storage. */
const offloadedData = { store: new MemoryBlobStore(), manifests: await memoryManifests() };
const offloaded = await pushedRepositories(true, offloadedData.store, offloadedData.manifests);

/** A v2 fetch; without progress, whose lines depend on timing. */
function v2Fetch(args: string[]): Uint8Array {
  const out = new PktLineBuilder().text("command=fetch").text("object-format=sha1").delim();
  for (const arg of [...args, "no-progress"]) out.text(arg);
  return out.flush().toBytes();
}

async function fetchBoth(body: Uint8Array): Promise<[Uint8Array, Uint8Array]> {
  const mine = await readAll(uploadPack(await onThread.snapshot(ORG, "a"), body, { protocolVersion: 2 }));
  const theirs = await readAll(uploadPack(await offloaded.snapshot(ORG, "a"), body, { protocolVersion: 2, offload: workers.writePack }));
  return [mine, theirs];
}

describe("pack workers", () => {
  test("pushed packs, thin ones completed, are indexed by the workers into the same packs", async () => {
    const [mine, theirs] = [await onThread.snapshot(ORG, "a"), await offloaded.snapshot(ORG, "a")];
    expect(theirs.manifest.packs).toEqual(mine.manifest.packs);
    expect(theirs.manifest.packs.length).toBe(commits.length);
    expect(theirs.objects.readObject(commits.at(-1)!)?.type).toBe("commit");
  });

  test.each([
    ["a full clone without ofs-delta (walked, then cached)", [`want ${commits.at(-1)}`, "thin-pack", "done"]],
    ["a fetch of more than a small pack's objects (walked here, written there)", [`want ${commits.at(-1)}`, `have ${commits[0]}`, "ofs-delta", "done"]],
    ["a shallow clone", [`want ${commits.at(-1)}`, "deepen 1", "ofs-delta", "done"]],
  ])("%s: the same bytes as on the request thread", async (_name, args) => {
    const before = jobs;
    const [mine, theirs] = await fetchBoth(v2Fetch(args));
    expect(theirs).toEqual(mine);
    expect(jobs).toBe(before + 1);
  });

  test("a full clone of packs read from storage goes to a worker, which copies them whole and sends back what it scanned", async () => {
    const reloaded = new Repositories(offloadedData.store, offloadedData.manifests, { compaction: false, packWork: workers });
    const clone = v2Fetch([`want ${commits.at(-1)}`, "ofs-delta", "done"]);
    const before = jobs;
    const mine = await readAll(uploadPack(await onThread.snapshot(ORG, "a"), clone, { protocolVersion: 2 }));
    const snapshot = await reloaded.snapshot(ORG, "a");
    expect(snapshot.objects.packs!.map(knownPackReferences)).toEqual(snapshot.objects.packs!.map(() => undefined));
    const theirs = await readAll(uploadPack(snapshot, clone, { protocolVersion: 2, offload: workers.writePack }));
    expect(theirs).toEqual(mine);
    expect(jobs).toBe(before + 1);

    // The worker's flags are the ones a scan here gives; with them the next small clone stays on this thread.
    const scannedHere = (await onThread.snapshot(ORG, "a")).objects.packs!.map(packReferences);
    expect(snapshot.objects.packs!.map(knownPackReferences)).toEqual(scannedHere);
    expect(await readAll(uploadPack(snapshot, clone, { protocolVersion: 2, offload: workers.writePack }))).toEqual(mine);
    expect(jobs).toBe(before + 1);
  });

  test("a small full clone of packs pushed here is copied whole on the request thread; above SMALL_WHOLE_PACK_BYTES, by a worker", async () => {
    const clone = v2Fetch([`want ${commits.at(-1)}`, "ofs-delta", "done"]);
    const before = jobs;
    const [mine, theirs] = await fetchBoth(clone);
    expect(theirs).toEqual(mine);
    expect(jobs).toBe(before);

    const large = new Workdir();
    try {
      // Random bytes as base64: a pack of about 1.2x the limit, since zlib cannot shrink them much.
      const noise = Buffer.from(crypto.getRandomValues(new Uint8Array(SMALL_WHOLE_PACK_BYTES))).toString("base64");
      const tip = large.commit({ "noise.md": noise });
      const repos = new Repositories(new MemoryBlobStore(), await memoryManifests(), { compaction: false, packWork: workers });
      await repos.push(ORG, "large", { updates: [{ ref: MAIN, oldOid: ZERO_OID, newOid: tip }], pack: large.pack([tip], [], true) });
      const snapshot = await repos.snapshot(ORG, "large");
      expect(snapshot.objects.packs!.reduce((bytes, pack) => bytes + pack.fileBytes.length, 0)).toBeGreaterThan(SMALL_WHOLE_PACK_BYTES);
      const beforeLarge = jobs;
      const sent = await readAll(uploadPack(snapshot, v2Fetch([`want ${tip}`, "ofs-delta", "done"]), { protocolVersion: 2, offload: workers.writePack }));
      expect(jobs).toBe(beforeLarge + 1);
      expect(sent.length).toBeGreaterThan(SMALL_WHOLE_PACK_BYTES);
    } finally {
      large.cleanup();
    }
  });

  test("a small fetch and a cached clone pack stay on the request thread", async () => {
    const clone = v2Fetch([`want ${commits.at(-1)}`, "done"]);
    await fetchBoth(clone);
    expect(cachedClonePack((await offloaded.snapshot(ORG, "a")).objects, `ref ${commits.at(-1)} `)).toBeDefined();
    const before = jobs;
    for (const body of [clone, v2Fetch([`want ${commits.at(-1)}`, `have ${commits.at(-2)}`, "ofs-delta", "done"])]) {
      const [mine, theirs] = await fetchBoth(body);
      expect(theirs).toEqual(mine);
    }
    expect(jobs).toBe(before);
  });

  test("compaction merges in a worker into the same pack", async () => {
    const mine = await onThread.compact(ORG, "a", { maxPacks: 1, gracePeriodMs: 0 });
    const theirs = await offloaded.compact(ORG, "a", { maxPacks: 1, gracePeriodMs: 0 });
    expect(theirs).toEqual(mine);
    expect(theirs.mergedPacks).toBe(commits.length);
    const [cloneMine, cloneTheirs] = await fetchBoth(v2Fetch([`want ${commits.at(-1)}`, "ofs-delta", "done"]));
    expect(cloneTheirs).toEqual(cloneMine);
  });

  test("a small pushed pack is indexed on the request thread, into the same pack", async () => {
    const inline = new PackWorkers({ size: 1, queueLimit: 1, heldBytesPerWorker: 0, observer: { queueLength() {}, busyWorkers() {}, busy: () => void jobs++ } });
    try {
      const repositories = async (packWork?: PackWorkers) => new Repositories(new MemoryBlobStore(), await memoryManifests(), { compaction: false, packWork });
      const [repos, reference] = [await repositories(inline), await repositories()];
      const before = jobs;
      for (const target of [repos, reference]) {
        const result = await target.push(ORG, "c", { updates: [{ ref: MAIN, oldOid: ZERO_OID, newOid: commits[0] }], pack: work.pack([commits[0]]) });
        expect(result.statuses[0]).toEqual({ ref: MAIN, ok: true });
      }
      expect(jobs).toBe(before);
      expect((await repos.snapshot(ORG, "c")).manifest.packs).toEqual((await reference.snapshot(ORG, "c")).manifest.packs);
    } finally {
      inline.close();
    }
  });

  test("a pack that cannot be unpacked fails its push only; the next push goes through", async () => {
    const repos = new Repositories(new MemoryBlobStore(), await memoryManifests(), { compaction: false, packWork: workers });
    const pack = work.pack([commits[0]]);
    const corrupt = pack.slice();
    corrupt[corrupt.length - 1] ^= 0xff;
    const update = { ref: MAIN, oldOid: ZERO_OID, newOid: commits[0] };
    const refused = await repos.push(ORG, "b", { updates: [update], pack: corrupt });
    expect(refused.unpackError).toContain("checksum");
    expect(refused.statuses[0].ok).toBe(false);
    expect((await repos.push(ORG, "b", { updates: [update], pack })).statuses[0]).toEqual({ ref: MAIN, ok: true });
  });
});

describe("a full worker queue", () => {
  test("is answered 503 with Retry-After; closing the pool ends the waiting answers", async () => {
    // Workers that never answer a pack job: the first clone holds the one worker, the second waits.
    // Shallow clones, which always go to a worker (a full one of these small packs would not).
    const stuck = new PackWorkers({ size: 1, queueLimit: 1, heldBytesPerWorker: 1 << 20, url: new URL("./fixture-worker.ts", import.meta.url) });
    const app = createApp({
      accounts: { authenticate: async () => ({ org: ORG, admin: false }) },
      repositories: { resolve: (org, { agent }) => ({ snapshot: () => offloaded.snapshot(org, agent), push: () => Promise.reject(new Error("no pushes here")) }) },
      trustOrgHeader: false,
      maxBodyBytes: 1 << 20,
      logger: SILENT_LOGGER,
      metrics: new Metrics({ version: "test", commit: "test" }),
      readinessChecks: [],
      offload: stuck.writePack,
    });
    const clone = () =>
      app.request("http://x/v1/git/a/state.git/git-upload-pack", {
        method: "POST",
        headers: { authorization: "Bearer key", "content-type": "application/x-git-upload-pack-request", "git-protocol": "version=2" },
        body: v2Fetch([`want ${commits.at(-1)}`, "deepen 1", "ofs-delta", "done"]),
      });
    const running = await clone();
    const waiting = await clone();
    const refused = await clone();
    expect([running.status, waiting.status, refused.status]).toEqual([200, 200, 503]);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(await refused.text()).toContain("busy");
    stuck.close();
    for (const answer of [running, waiting]) await expect(answer.arrayBuffer()).rejects.toThrow("closed");
  });
});
