import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Codec } from "../../../src/git/codec/codec.ts";
import { decodePackIndex } from "../../../src/git/idxfile/index.ts";
import type { GitObject } from "../../../src/git/object/object.ts";
import { ObjectCache, ObjectDatabase } from "../../../src/git/odb/index.ts";
import type { Oid } from "../../../src/git/oid.ts";
import { PackFile } from "../../../src/git/pack/packfile.ts";
import { git, gitText, tempDir } from "../../support/git.ts";
import { CODECS } from "../codecs.ts";
import { repoFixture, repositoryReader } from "../pack/input/fixtures.ts";

const fixture = repoFixture(2000);
const oracle = repositoryReader(fixture.gitDir);
const scratch = tempDir();
afterAll(() => scratch.cleanup());

/**
 * The fixture's history cut into packs by range, as successive pushes would leave it, and a last
 * pack overlapping two others, as a re-sent push would.
 */
const RANGES = [["main~1500"], ["main~900", "^main~1500"], ["main~300", "^main~900"], ["main", "--tags", "^main~300"], ["main~250", "^main~320"]];
const packFiles = RANGES.map((range, i) => {
  const objects = git(["rev-list", "--objects", ...range], { cwd: fixture.gitDir }).stdout;
  const prefix = join(scratch.path, `part${i}`);
  const name = gitText(["pack-objects", "-q", "--delta-base-offset", "--window=50", "--depth=50", prefix], { cwd: fixture.gitDir, input: objects });
  return { pack: new Uint8Array(readFileSync(`${prefix}-${name}.pack`)), idx: new Uint8Array(readFileSync(`${prefix}-${name}.idx`)) };
});

function databaseOfParts(codec: Codec, cacheBytes?: number): ObjectDatabase {
  const database = new ObjectDatabase(codec, { cacheBytes });
  for (const files of packFiles) database.addPack(new PackFile(files.pack, decodePackIndex(files.idx, codec), codec, database.cache));
  return database;
}

function same(actual: GitObject | undefined, expected: GitObject | undefined): boolean {
  return actual?.type === expected?.type && Buffer.from(actual?.data ?? []).equals(Buffer.from(expected?.data ?? []));
}

describe.each(CODECS)("ObjectDatabase (%s codec)", (_name, codec) => {
  test("reads every object of a history spread over five packs as cat-file does", () => {
    const database = databaseOfParts(codec, 2 * 1024 * 1024);
    expect(database.packs.length).toBe(5);
    let mismatches = 0;
    for (const [oid, expected] of oracle.objects) {
      if (!same(database.readObject(oid), expected)) mismatches++;
      expect(database.hasObject(oid)).toBe(true);
      expect(database.readType(oid)).toBe(expected.type);
      expect(database.readInfo(oid)).toEqual({ type: expected.type, size: expected.data.length });
      expect(database.stored(oid)).toBeDefined();
      expect(database.cache.usedBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    }
    expect(mismatches).toBe(0);
  });

  test("objects present in several packs come from the newest", () => {
    const database = databaseOfParts(codec);
    const [newest] = database.packs;
    const shared = [...newest.oids()].find((oid) => database.packs.slice(1).some((pack) => pack.has(oid)));
    expect(shared).toBeDefined();
    const stored = database.stored(shared as Oid);
    expect(stored?.compressed.buffer).toBe(newest.stored(shared as Oid)?.compressed.buffer as ArrayBuffer);
  });

  test("removing a pack hides its objects and drops its cached ones", () => {
    const database = databaseOfParts(codec);
    const target = database.packs[1];
    const others = () => database.packs.filter((pack) => pack !== target);
    const only = [...target.oids()].filter((oid) => !others().some((pack) => pack.has(oid)));
    expect(only.length).toBeGreaterThan(0);
    for (const oid of only.slice(0, 50)) database.readObject(oid);
    const cachedBefore = database.cache.count;
    expect(database.removePack(target)).toBe(true);
    expect(database.removePack(target)).toBe(false);
    expect(database.cache.count).toBeLessThan(cachedBefore);
    expect(database.hasObject(only[0])).toBe(false);
    expect(database.readObject(only[0])).toBeUndefined();
    expect(database.stored(only[0])).toBeUndefined();
    database.addPack(target);
    database.addPack(target);
    expect(database.packs.length).toBe(5);
    expect(database.packs[0]).toBe(target);
    expect(same(database.readObject(only[0]), oracle.objects.get(only[0]))).toBe(true);
  });

  test("objects added in memory hash as git does and read back before and after packing", () => {
    const database = new ObjectDatabase(codec);
    const data = new TextEncoder().encode("hello from memory\n");
    const oid = database.addObject("blob", data);
    expect(oid).toBe(gitText(["hash-object", "--stdin"], { input: data }));
    expect(database.hasObject(oid)).toBe(true);
    expect(database.readObject(oid)).toEqual({ type: "blob", data });
    expect(database.readType(oid)).toBe("blob");
    expect(database.readInfo(oid)).toEqual({ type: "blob", size: data.length });
    expect(database.stored(oid)).toBeUndefined();
    expect(database.hasObject("0".repeat(40))).toBe(false);
    expect(database.readObject("0".repeat(40))).toBeUndefined();
    expect(database.readInfo("0".repeat(40))).toBeUndefined();
  });

  test("the shared cache bounds the bytes held across all packs", () => {
    const budget = 128 * 1024;
    const database = databaseOfParts(codec, budget);
    let read = 0;
    for (const oid of oracle.objects.keys()) {
      if (read++ % 3 !== 0) continue;
      database.readObject(oid);
      expect(database.cache.usedBytes).toBeLessThanOrEqual(budget);
    }
    expect(database.cache.count).toBeGreaterThan(0);
  });
});

describe("ObjectCache", () => {
  const object = (size: number): GitObject => ({ type: "blob", data: new Uint8Array(size) });

  test("evicts the least recently used entries first", () => {
    const cache = new ObjectCache(3 * (100 + 96));
    const owner = {};
    cache.set(owner, 1, object(100));
    cache.set(owner, 2, object(100));
    cache.set(owner, 3, object(100));
    expect(cache.get(owner, 1)).toBeDefined();
    cache.set(owner, 4, object(100));
    expect(cache.get(owner, 2)).toBeUndefined();
    expect(cache.get(owner, 1)).toBeDefined();
    expect(cache.get(owner, 3)).toBeDefined();
    expect(cache.get(owner, 4)).toBeDefined();
    expect(cache.count).toBe(3);
  });

  test("keys are per owner; replacing and evicting keep the byte count exact", () => {
    const cache = new ObjectCache(10_000);
    const a = {};
    const b = {};
    cache.set(a, 1, object(1000));
    cache.set(b, 1, object(2000));
    cache.set(a, 1, object(500));
    expect(cache.get(a, 1)?.data.length).toBe(500);
    expect(cache.get(b, 1)?.data.length).toBe(2000);
    expect(cache.usedBytes).toBe(500 + 2000 + 2 * 96);
    cache.evict(b);
    expect(cache.get(b, 1)).toBeUndefined();
    expect(cache.usedBytes).toBe(500 + 96);
    cache.set(a, 2, object(20_000));
    expect(cache.get(a, 2)).toBeUndefined();
    expect(cache.count).toBe(1);
  });
});
