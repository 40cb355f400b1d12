import { describe, expect, test } from "bun:test";
import { StorageError, type BlobStore } from "../../src/storage/blob-store.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array | undefined) => (data === undefined ? undefined : new TextDecoder().decode(data));

/** The behaviour every BlobStore backend must share; each backend's test file runs it. */
export function describeBlobStoreContract(name: string, makeStore: () => BlobStore): void {
  describe(`BlobStore contract: ${name}`, () => {
    test("a missing key has no blob and no generation", async () => {
      const store = makeStore();
      expect(await store.get("org/agent/manifest.json")).toBeUndefined();
      expect(await store.generation("org/agent/manifest.json")).toBeUndefined();
    });

    test("createOnly writes once and never overwrites", async () => {
      const store = makeStore();
      expect(await store.createOnly("o/a/packs/pack-1.pack", bytes("first"))).toBe(true);
      expect(await store.createOnly("o/a/packs/pack-1.pack", bytes("second"))).toBe(false);
      const blob = await store.get("o/a/packs/pack-1.pack");
      expect(text(blob?.data)).toBe("first");
      expect(blob?.generation).toBe((await store.generation("o/a/packs/pack-1.pack"))!);
    });

    test("empty blobs are blobs", async () => {
      const store = makeStore();
      expect(await store.createOnly("o/empty", new Uint8Array(0))).toBe(true);
      expect((await store.get("o/empty"))?.data.length).toBe(0);
    });

    test("compareAndSwap succeeds only from the expected generation, and generations increase", async () => {
      const store = makeStore();
      const key = "o/a/manifest.json";
      expect(await store.compareAndSwap(key, bytes("v1"), "1")).toBeUndefined();
      const first = await store.compareAndSwap(key, bytes("v1"), null);
      expect(first).toMatch(/^\d+$/);
      expect(await store.compareAndSwap(key, bytes("lost"), null)).toBeUndefined();
      expect(await store.compareAndSwap(key, bytes("lost"), String(BigInt(first!) + 1n))).toBeUndefined();
      const second = await store.compareAndSwap(key, bytes("v2"), first!);
      expect(BigInt(second!)).toBeGreaterThan(BigInt(first!));
      expect(await store.compareAndSwap(key, bytes("lost"), first!)).toBeUndefined();
      const blob = await store.get(key);
      expect(blob?.generation).toBe(second!);
      expect(text(blob?.data)).toBe("v2");
    });

    test("a blob created by createOnly can be swapped from its generation", async () => {
      const store = makeStore();
      await store.createOnly("o/x", bytes("a"));
      const generation = await store.generation("o/x");
      expect(await store.compareAndSwap("o/x", bytes("b"), generation!)).toBeDefined();
      expect(text((await store.get("o/x"))?.data)).toBe("b");
    });

    test("the store keeps its own copy of written data", async () => {
      const store = makeStore();
      const data = bytes("original");
      await store.createOnly("o/copy", data);
      data.fill(0);
      expect(text((await store.get("o/copy"))?.data)).toBe("original");
    });

    test("concurrent swaps from one generation: exactly one wins", async () => {
      const store = makeStore();
      const start = (await store.compareAndSwap("o/race", bytes("0"), null))!;
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) => store.compareAndSwap("o/race", bytes(String(i + 1)), start)),
      );
      const winners = results.flatMap((generation, i) => (generation === undefined ? [] : [i + 1]));
      expect(winners.length).toBe(1);
      expect(text((await store.get("o/race"))?.data)).toBe(String(winners[0]));
    });

    test("concurrent createOnly and create-by-swap: exactly one wins", async () => {
      const store = makeStore();
      const [created, swapped] = await Promise.all([
        store.createOnly("o/both", bytes("create")),
        store.compareAndSwap("o/both", bytes("swap"), null),
      ]);
      expect(Number(created) + Number(swapped !== undefined)).toBe(1);
      expect(text((await store.get("o/both"))?.data)).toBe(created ? "create" : "swap");
    });

    test("delete removes a blob, tolerates a missing one, and the key can be created again", async () => {
      const store = makeStore();
      const first = (await store.compareAndSwap("o/d", bytes("1"), null))!;
      await store.delete("o/d");
      await store.delete("o/d");
      expect(await store.get("o/d")).toBeUndefined();
      expect(await store.compareAndSwap("o/d", bytes("2"), first)).toBeUndefined();
      expect(await store.compareAndSwap("o/d", bytes("2"), null)).toBeDefined();
    });

    test("list matches a plain string prefix, sorted, with update times", async () => {
      const store = makeStore();
      const before = Date.now();
      for (const key of ["a/b/d", "a/b/c", "a/bc", "ab/x", "b"]) await store.createOnly(key, bytes(key));
      const keys = async (prefix: string) => (await store.list(prefix)).map((listed) => listed.key);
      expect(await keys("a/b")).toEqual(["a/b/c", "a/b/d", "a/bc"]);
      expect(await keys("a/b/")).toEqual(["a/b/c", "a/b/d"]);
      expect(await keys("")).toEqual(["a/b/c", "a/b/d", "a/bc", "ab/x", "b"]);
      expect(await keys("zz/")).toEqual([]);
      const [listed] = await store.list("b");
      expect(listed.updated.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(listed.updated.getTime()).toBeLessThan(Date.now() + 60_000);
    });

    test("keys that are not plain relative paths are refused with a typed error", async () => {
      const store = makeStore();
      const bad = ["", "/abs", "a/../b", "..", ".", "a//b", "./a", "a/", ".hidden", "a/.x", "a\\b", "a\0b", "x".repeat(1025)];
      for (const key of bad) {
        for (const attempt of [
          () => store.get(key),
          () => store.generation(key),
          () => store.createOnly(key, bytes("x")),
          () => store.compareAndSwap(key, bytes("x"), null),
          () => store.delete(key),
        ]) {
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
