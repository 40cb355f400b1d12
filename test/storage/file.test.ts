import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
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

test("several processes creating the same keys: exactly one wins each key", async () => {
  const root = freshRoot();
  const script = `
    const { FileBlobStore } = await import(${JSON.stringify(join(import.meta.dir, "../../src/storage/file.ts"))});
    const store = new FileBlobStore(process.argv[1]);
    const wins = [];
    for (let i = 0; i < 50; i++) if (await store.createOnly("o/a/packs/k" + i, new TextEncoder().encode(process.argv[2]))) wins.push(i);
    console.log(JSON.stringify(wins));`;
  const children = Array.from({ length: 4 }, (_, id) =>
    Bun.spawn([process.execPath, "-e", script, root, String(id)], { stdout: "pipe", stderr: "inherit" }),
  );
  const wins = await Promise.all(children.map(async (child) => JSON.parse(await new Response(child.stdout).text()) as number[]));
  const store = new FileBlobStore(root);
  for (let i = 0; i < 50; i++) {
    const winners = wins.flatMap((won, id) => (won.includes(i) ? [id] : []));
    expect(winners.length).toBe(1);
    expect(new TextDecoder().decode(await store.get(`o/a/packs/k${i}`))).toBe(String(winners[0]));
  }
});

test("temporary files left by a crashed writer are invisible", async () => {
  const root = freshRoot();
  const store = new FileBlobStore(root);
  await store.createOnly("o/a/packs/pack-1.pack", bytes("committed"));
  writeFileSync(join(root, ".stategit", "tmp", "12345-deadbeef"), "half a pack");
  expect((await store.list("")).map((listed) => listed.key)).toEqual(["o/a/packs/pack-1.pack"]);
  expect(readFileSync(join(root, "o/a/packs/pack-1.pack"), "utf8")).toBe("committed");
});

test("a directory where a blob is expected is not a blob", async () => {
  const store = new FileBlobStore(freshRoot());
  await store.createOnly("o/a/packs/pack-1.pack", bytes("pack"));
  expect(await store.get("o/a/packs")).toBeUndefined();
  expect(await store.get("o/a/packs/pack-1.pack/x")).toBeUndefined();
});
