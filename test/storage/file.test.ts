import { afterAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FileBlobStore } from "../../src/storage/file.ts";
import { tempDir } from "../support/git.ts";
import { describeBlobStoreContract } from "./contract.ts";

const dir = tempDir("stategit-file-store-");
afterAll(dir.cleanup);
let stores = 0;
const freshRoot = () => join(dir.path, `store-${++stores}`);

describeBlobStoreContract("file", () => new FileBlobStore(freshRoot()));

const bytes = (text: string) => new TextEncoder().encode(text);

test("several processes swapping one key: exactly one wins per generation, no update is lost", async () => {
  const root = freshRoot();
  mkdirSync(root, { recursive: true });
  const workers = 4;
  const increments = 25;
  const children = Array.from({ length: workers }, (_, id) =>
    Bun.spawn(["bun", join(import.meta.dir, "cas-worker.ts"), root, "o/a/counter", String(id), String(increments)], {
      stdout: "pipe",
      stderr: "inherit",
    }),
  );
  const store = new FileBlobStore(root);
  const ready = () => Array.from({ length: workers }, (_, id) => Bun.file(join(root, `ready-${id}`)).exists());
  while (!(await Promise.all(ready())).every(Boolean)) await Bun.sleep(5);
  writeFileSync(join(root, "go"), "");

  const reports = await Promise.all(
    children.map(async (child) => {
      const output = await new Response(child.stdout).text();
      expect(await child.exited).toBe(0);
      return JSON.parse(output) as { wins: [string, string][]; lost: number };
    }),
  );
  // Following the swaps from "no blob" must visit every win exactly once and end at the final blob.
  const next = new Map<string, string>();
  for (const [from, to] of reports.flatMap((report) => report.wins)) {
    expect(next.has(from)).toBe(false);
    next.set(from, to);
  }
  expect(next.size).toBe(workers * increments);
  let generation = "none";
  for (let step = 0; step < workers * increments; step++) {
    const following = next.get(generation);
    expect(following).toBeDefined();
    expect(generation === "none" || BigInt(following!) > BigInt(generation)).toBe(true);
    generation = following!;
  }
  const final = await store.get("o/a/counter");
  expect(final?.generation).toBe(generation);
  expect(new TextDecoder().decode(final!.data)).toBe(String(workers * increments));
  console.log(`${workers} processes, ${workers * increments} swaps won, ${reports.reduce((n, r) => n + r.lost, 0)} lost`);
});

test("temporary files and locks left by a crashed writer are invisible", async () => {
  const root = freshRoot();
  const store = new FileBlobStore(root);
  await store.compareAndSwap("o/a/manifest.json", bytes("committed"), null);
  writeFileSync(join(root, ".stategit", "tmp", "12345-deadbeef"), "half a manifest");
  expect((await store.list("")).map((listed) => listed.key)).toEqual(["o/a/manifest.json"]);
  expect(new TextDecoder().decode((await store.get("o/a/manifest.json"))!.data)).toBe("committed");
});

test("blobs are plain files, and another store on the same directory sees the same generations", async () => {
  const root = freshRoot();
  const first = new FileBlobStore(root);
  const generation = (await first.compareAndSwap("o/a/manifest.json", bytes("{}"), null))!;
  expect(readFileSync(join(root, "o/a/manifest.json"), "utf8")).toBe("{}");
  const second = new FileBlobStore(root);
  expect(await second.generation("o/a/manifest.json")).toBe(generation);
  const next = (await second.compareAndSwap("o/a/manifest.json", bytes("{\"v\":2}"), generation))!;
  expect(await first.compareAndSwap("o/a/manifest.json", bytes("lost"), generation)).toBeUndefined();
  expect((await first.get("o/a/manifest.json"))?.generation).toBe(next);
});

test("a directory where a blob is expected is not a blob", async () => {
  const store = new FileBlobStore(freshRoot());
  await store.createOnly("o/a/packs/pack-1.pack", bytes("pack"));
  expect(await store.get("o/a/packs")).toBeUndefined();
  expect(await store.generation("o/a")).toBeUndefined();
  expect(await store.get("o/a/packs/pack-1.pack/x")).toBeUndefined();
});
