import { describe, expect, test } from "bun:test";
import { StorageError, type BlobStore } from "../../src/storage/blob-store.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array | undefined) => (data === undefined ? undefined : new TextDecoder().decode(data));

/** The behaviour every BlobStore backend must share; each backend's test file runs it. */
export function describeBlobStoreContract(name: string, makeStore: () => BlobStore | Promise<BlobStore>): void {
  describe(`BlobStore contract: ${name}`, () => {
    test("a missing key has no blob", async () => {
      const store = await makeStore();
      expect(await store.get("org/agent/packs/pack-1.pack")).toBeUndefined();
    });

    test("createOnly writes once and never overwrites", async () => {
      const store = await makeStore();
      expect(await store.createOnly("o/a/packs/pack-1.pack", bytes("first"))).toBe(true);
      expect(await store.createOnly("o/a/packs/pack-1.pack", bytes("second"))).toBe(false);
      expect(text(await store.get("o/a/packs/pack-1.pack"))).toBe("first");
    });

    test("creating an existing key again leaves its bytes and freshens its update time (garbage collection goes by it)", async () => {
      const store = await makeStore();
      await store.createOnly("o/a/packs/pack-2.pack", bytes("first"));
      const [before] = await store.list("o/a/packs/pack-2");
      await Bun.sleep(20);
      expect(await store.createOnly("o/a/packs/pack-2.pack", bytes("first"))).toBe(false);
      const [after] = await store.list("o/a/packs/pack-2");
      expect(after.updated.getTime()).toBeGreaterThan(before.updated.getTime());
      expect(after.size).toBe(before.size);
      expect(text(await store.get("o/a/packs/pack-2.pack"))).toBe("first");
    });

    test("empty blobs are blobs", async () => {
      const store = await makeStore();
      expect(await store.createOnly("o/empty", new Uint8Array(0))).toBe(true);
      expect((await store.get("o/empty"))?.length).toBe(0);
    });

    test("binary data round-trips exactly", async () => {
      const store = await makeStore();
      const data = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7919) & 0xff);
      await store.createOnly("o/binary", data);
      expect(await store.get("o/binary")).toEqual(data);
    });

    test("the store keeps its own copy of written data", async () => {
      const store = await makeStore();
      const data = bytes("original");
      await store.createOnly("o/copy", data);
      data.fill(0);
      expect(text(await store.get("o/copy"))).toBe("original");
    });

    test("concurrent creates of one key: exactly one wins, and its bytes are what is stored", async () => {
      const store = await makeStore();
      const results = await Promise.all(Array.from({ length: 16 }, (_, i) => store.createOnly("o/race", bytes(String(i)))));
      const winners = results.flatMap((created, i) => (created ? [i] : []));
      expect(winners.length).toBe(1);
      expect(text(await store.get("o/race"))).toBe(String(winners[0]));
    });

    test("delete removes a blob, tolerates a missing one, and the key can be created again", async () => {
      const store = await makeStore();
      await store.createOnly("o/d", bytes("1"));
      await store.delete("o/d");
      await store.delete("o/d");
      expect(await store.get("o/d")).toBeUndefined();
      expect(await store.createOnly("o/d", bytes("2"))).toBe(true);
      expect(text(await store.get("o/d"))).toBe("2");
    });

    test("list matches a plain string prefix, sorted, with update times and sizes", async () => {
      const store = await makeStore();
      const before = Date.now();
      for (const key of ["a/b/d", "a/b/c", "a/bc", "ab/x", "b"]) await store.createOnly(key, bytes(key));
      const keys = async (prefix: string) => (await store.list(prefix)).map((listed) => listed.key);
      expect(await keys("a/b")).toEqual(["a/b/c", "a/b/d", "a/bc"]);
      expect(await keys("a/b/")).toEqual(["a/b/c", "a/b/d"]);
      expect(await keys("")).toEqual(["a/b/c", "a/b/d", "a/bc", "ab/x", "b"]);
      expect(await keys("zz/")).toEqual([]);
      const [listed] = await store.list("ab/");
      expect(listed.size).toBe(4);
      expect(listed.updated.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(listed.updated.getTime()).toBeLessThan(Date.now() + 60_000);
    });

    test("ping answers", async () => {
      const store = await makeStore();
      await store.ping();
    });

    test("keys that are not plain relative paths are refused with a typed error", async () => {
      const store = await makeStore();
      const bad = ["", "/abs", "a/../b", "..", ".", "a//b", "./a", "a/", ".hidden", "a/.x", "a\\b", "a\0b", "x".repeat(1025)];
      for (const key of bad) {
        for (const attempt of [() => store.get(key), () => store.createOnly(key, bytes("x")), () => store.delete(key)]) {
          const error = await attempt().then(() => undefined, (caught: unknown) => caught);
          expect(error).toBeInstanceOf(StorageError);
          expect((error as StorageError).code).toBe("storage.key");
        }
      }
      for (const prefix of ["/", "../", "a//", ".x"]) {
        await expect(store.list(prefix)).rejects.toBeInstanceOf(StorageError);
      }
      expect(await store.list("")).toEqual([]);
    });
  });
}
