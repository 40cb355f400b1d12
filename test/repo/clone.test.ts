import { afterAll, expect, test } from "bun:test";
import { nativeCodec } from "../../src/git/codec/index.ts";
import { ZERO_OID, type Oid } from "../../src/git/oid.ts";
import { PackFile } from "../../src/git/pack/packfile.ts";
import { packReferences } from "../../src/git/pack/references.ts";
import { PktLineBuilder } from "../../src/git/pktline/index.ts";
import { uploadPack } from "../../src/protocol/upload-pack.ts";
import { Repositories } from "../../src/repo/repository.ts";
import { MemoryBlobStore } from "../../src/storage/memory.ts";
import { gitText } from "../support/git.ts";
import { demux, packObjectIds, readAll } from "../protocol/response.ts";
import { memoryManifests, Workdir } from "./support.ts";

const ORG = "acme";
const AGENT = "agent-1";
const MAIN = "refs/heads/main";
const work = new Workdir();
afterAll(() => work.cleanup());

const history: Oid[] = [];
for (let i = 0; i < 8; i++) history.push(work.commit({ "memory/a.md": `version ${i}\n`.repeat(20 + i), [`memory/n${i % 3}.md`]: `note ${i}\n` }));
const [first, , , middle, , , , last] = history;

/** The ids `git rev-list --objects` lists for `tips`, sorted: what a clone of them must hold. */
const reachable = (...tips: Oid[]) => gitText(["rev-list", "--objects", ...tips], { cwd: work.path }).split("\n").map((line) => line.slice(0, 40)).sort();

async function clone(repos: Repositories, wants: Oid[], capabilities = "side-band-64k ofs-delta include-tag") {
  const out = new PktLineBuilder();
  wants.forEach((want, i) => out.text(i === 0 ? `want ${want} ${capabilities}` : `want ${want}`));
  const request = out.flush().text("done").toBytes();
  return demux(await readAll(uploadPack(await repos.snapshot(ORG, AGENT), request, { protocolVersion: 0 })));
}

async function pushed(): Promise<Repositories> {
  const repos = new Repositories(new MemoryBlobStore(), await memoryManifests(), { compaction: false });
  const push = (oldOid: Oid, newOid: Oid, pack: Uint8Array) => repos.push(ORG, AGENT, { updates: [{ ref: MAIN, oldOid, newOid }], pack });
  expect((await push(ZERO_OID, middle, work.pack([middle]))).statuses[0].ok).toBe(true);
  expect((await push(middle, last, work.pack([last], [middle], true))).statuses[0].ok).toBe(true);
  return repos;
}

test("a full clone after pushes copies the stored packs: every reachable object, once, no walk", async () => {
  const repos = await pushed();
  const response = await clone(repos, [last]);
  expect(response.progress).not.toMatch(/Counting objects/);
  expect(response.progress).toMatch(/pack-reused \d+\n/);
  expect(packObjectIds(response.pack)).toEqual(reachable(last));
});

test("what a push learnt about its pack's references is what a pass over the pack finds", async () => {
  const repos = await pushed();
  const { packs } = (await repos.snapshot(ORG, AGENT)).objects;
  expect(packs.length).toBe(2);
  for (const pack of packs) {
    const fresh = new PackFile(pack.fileBytes, pack.index, nativeCodec);
    expect(packReferences(pack)).toEqual(packReferences(fresh));
  }
});

test("after a force push the packs hold an unreachable commit: the clone walks and leaves it out", async () => {
  const repos = await pushed();
  const forced = await repos.push(ORG, AGENT, { updates: [{ ref: MAIN, oldOid: last, newOid: first }], allowForcePush: true });
  expect(forced.statuses[0].ok).toBe(true);
  const response = await clone(repos, [first]);
  expect(response.progress).toMatch(/Counting objects/);
  expect(packObjectIds(response.pack)).toEqual(reachable(first));
});

test("clones of part of the refs, or without ofs-delta, walk", async () => {
  const repos = await pushed();
  const side = await repos.push(ORG, AGENT, { updates: [{ ref: "refs/heads/side", oldOid: ZERO_OID, newOid: middle }] });
  expect(side.statuses[0].ok).toBe(true);
  const both = await clone(repos, [last, middle]);
  expect(both.progress).not.toMatch(/Counting objects/);
  const withoutOfs = await clone(repos, [last], "side-band-64k");
  expect(withoutOfs.progress).toMatch(/Counting objects/);
  expect(packObjectIds(withoutOfs.pack)).toEqual(reachable(last));
  const older = await clone(repos, [middle]);
  expect(older.progress).toMatch(/Counting objects/);
  expect(packObjectIds(older.pack)).toEqual(reachable(middle));
});
