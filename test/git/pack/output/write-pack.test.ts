import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createDelta } from "../../../../src/git/delta/create.ts";
import { CorruptDataError, MissingObjectError } from "../../../../src/git/errors.ts";
import type { GitObject } from "../../../../src/git/object/object.ts";
import { hashObject } from "../../../../src/git/object/object.ts";
import { decodePackIndex } from "../../../../src/git/idxfile/index.ts";
import { ObjectDatabase } from "../../../../src/git/odb/index.ts";
import type { Oid } from "../../../../src/git/oid.ts";
import { PackFile } from "../../../../src/git/pack/packfile.ts";
import { PackObjectKind, typeToKind } from "../../../../src/git/pack/format.ts";
import { buildPack, writePack, type PackPhase, type PackWriteOptions } from "../../../../src/git/pack/output/index.ts";
import type { PackObjectSpec, StoredEntry } from "../../../../src/git/pack/types.ts";
import { CODECS } from "../../codecs.ts";
import { git, gitText, tempDir } from "../../../support/git.ts";
import {
  collect,
  generateRepository,
  gitPackSize,
  indexWithGit,
  loadObjects,
  memorySource,
  revListSpecs,
  storedDelta,
  storedEntries,
  treeSpecs,
} from "./support.ts";

const scratch = tempDir("stategit-pack-writer-");
const repo = join(scratch.path, "source.git");
/** Holds only the thin-pack test's older commit: the receiver of a thin pack. */
const receiver = join(scratch.path, "receiver.git");
let objects: Map<Oid, GitObject>;
let stored: Map<Oid, StoredEntry>;
let all: { specs: PackObjectSpec[]; lines: string };

beforeAll(() => {
  generateRepository(repo, { commits: 1200, files: 40, largeBlobBytes: 1_200_000 });
  git(["repack", "-adq", "--window=10", "--depth=50"], { cwd: repo });
  git(["branch", "older", "main~40"], { cwd: repo });
  git(["init", "-q", "--bare", receiver]);
  git(["fetch", "-q", repo, "refs/heads/older:refs/heads/main"], { cwd: receiver });
  objects = loadObjects(repo);
  stored = storedEntries(repo);
  all = revListSpecs(repo, ["--all"], objects);
});

afterAll(() => scratch.cleanup());

function pack(specs: PackObjectSpec[], withStored: boolean, options: PackWriteOptions) {
  return collect(writePack(specs, memorySource(objects, withStored ? stored : undefined), options));
}

describe.each(CODECS)("pack writer (%s codec)", (_name, codec) => {
  test("a full pack with a fresh delta search is accepted by git and close to git's size", async () => {
    const { pack: bytes, result, chunkCount } = await pack(all.specs, false, { codec, reuseDeltas: false });
    const indexed = indexWithGit(bytes);
    expect(new Set(indexed.kinds.keys())).toEqual(new Set(all.specs.map((spec) => spec.oid)));
    expect(result.objectCount).toBe(all.specs.length);
    expect(result.byteLength).toBe(bytes.length);
    expect(result.checksum).toBe(Buffer.from(bytes.subarray(bytes.length - 20)).toString("hex"));
    expect(result.reusedDeltas + result.reusedObjects).toBe(0);
    expect(result.freshDeltas).toBeGreaterThan(all.specs.length / 2);
    expect(Math.max(...indexed.depths)).toBeLessThanOrEqual(50);
    expect(chunkCount).toBeGreaterThan(10);
    const ratio = bytes.length / gitPackSize(repo, all.lines);
    console.log(`[${codec.name}] ${all.specs.length} objects, ${bytes.length} bytes, ${ratio.toFixed(3)}x git pack-objects`);
    expect(ratio).toBeLessThan(1.3);
  });

  test("reusing stored deltas and objects skips recompression and stays valid", async () => {
    const storedDeltas = all.specs.filter((spec) => stored.get(spec.oid)!.kind >= PackObjectKind.OfsDelta).length;
    const { pack: bytes, result } = await pack(all.specs, true, { codec });
    indexWithGit(bytes);
    expect(storedDeltas).toBeGreaterThan(0);
    expect(result.reusedDeltas).toBe(storedDeltas);
    // Objects the one source pack stored whole are not retried against each other (git's rule).
    expect(result.freshDeltas).toBe(0);
    expect(result.reusedObjects).toBe(all.specs.length - storedDeltas);
  });

  test("whole objects from different packs are still searched for deltas", async () => {
    const { specs } = revListSpecs(repo, ["main~1000"], objects);
    const wholeIn = (packOf: (index: number) => object) =>
      new Map(
        specs.map((spec, index) => {
          const { type, data } = objects.get(spec.oid)!;
          return [spec.oid, { kind: typeToKind(type), size: data.length, compressed: codec.deflate(data), pack: packOf(index) }];
        }),
      );
    const onePack = {};
    const twoPacks = [{}, {}];
    const run = (entries: Map<Oid, StoredEntry>) => collect(writePack(specs, memorySource(objects, entries), { codec }));
    const single = await run(wholeIn(() => onePack));
    const split = await run(wholeIn((index) => twoPacks[index % 2]));
    expect(single.result.freshDeltas).toBe(0);
    expect(split.result.freshDeltas).toBeGreaterThan(specs.length / 4);
    indexWithGit(split.pack);
  });

  test("a thin pack deltas against the receiver's objects and git completes it", async () => {
    const { specs } = revListSpecs(repo, ["main", "^older"], objects);
    const thinBases = treeSpecs(repo, "older", objects);
    const thin = await pack(specs, false, { codec, thin: true, thinBases, reuseDeltas: false });
    const full = await pack(specs, false, { codec, reuseDeltas: false });
    const indexed = indexWithGit(thin.pack, receiver);
    expect(thin.result.thinDeltas).toBeGreaterThan(0);
    expect(thin.result.objectCount).toBe(specs.length);
    // index-pack --fix-thin appends the bases it used, so the completed pack holds more.
    expect(indexed.kinds.size).toBeGreaterThan(specs.length);
    expect(thin.pack.length).toBeLessThan(full.pack.length);
    console.log(`[${codec.name}] thin ${thin.pack.length} bytes vs ${full.pack.length} (${specs.length} objects)`);
  });

  test("reused deltas against the receiver's objects are written as REF_DELTA", async () => {
    const { specs } = revListSpecs(repo, ["main", "^older"], objects);
    const thinBases = treeSpecs(repo, "older", objects).map((spec) => spec.oid);
    const { pack: bytes, result } = await pack(specs, true, { codec, thin: true, thinBases });
    indexWithGit(bytes, receiver);
    expect(result.thinDeltas).toBeGreaterThan(0);
  });

  test("without ofs-delta every delta is a REF_DELTA", async () => {
    const { pack: bytes, result } = await pack(all.specs, true, { codec, ofsDelta: false });
    const kinds = [...indexWithGit(bytes).kinds.values()];
    expect(kinds).not.toContain(PackObjectKind.OfsDelta);
    expect(kinds.filter((kind) => kind === PackObjectKind.RefDelta).length).toBe(result.reusedDeltas + result.freshDeltas);
  });

  test("the depth limit holds for fresh and reused deltas", async () => {
    for (const withStored of [false, true]) {
      const { pack: bytes } = await pack(all.specs, withStored, { codec, depth: 3 });
      const { depths } = indexWithGit(bytes);
      expect(depths.length).toBeGreaterThan(0);
      expect(Math.max(...depths)).toBe(3);
    }
  });
});

describe("pack writer details", () => {
  const [, codec] = CODECS[0];

  function textObject(text: string): GitObject {
    return { type: "blob", data: new TextEncoder().encode(text) };
  }

  test("a pack read through ObjectDatabase is copied entry by entry", async () => {
    const database = new ObjectDatabase(codec);
    const packDir = join(repo, "objects", "pack");
    for (const name of readdirSync(packDir).filter((file) => file.endsWith(".idx"))) {
      const index = decodePackIndex(new Uint8Array(readFileSync(join(packDir, name))), codec);
      database.addPack(new PackFile(new Uint8Array(readFileSync(join(packDir, name.replace(/\.idx$/, ".pack")))), index, codec, database.cache));
    }
    const { pack: bytes, result } = await collect(writePack(all.specs, database, { codec }));
    indexWithGit(bytes);
    expect(result.freshDeltas).toBe(0);
    expect(result.reusedDeltas + result.reusedObjects).toBe(all.specs.length);
  });

  test("buildPack packs loose objects that git then reads back", async () => {
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i} of a block`).join("\n");
    const blobs = [textObject(lines), textObject(lines + "\nmore"), textObject("tiny")];
    const bytes = await buildPack(blobs, { codec });
    const { kinds } = indexWithGit(bytes);
    expect(new Set(kinds.keys())).toEqual(new Set(blobs.map((blob) => hashObject(codec, blob.type, blob.data))));
    expect([...kinds.values()].filter((kind) => kind === PackObjectKind.OfsDelta).length).toBe(1);
  });

  test("an empty pack is a header and a trailer", async () => {
    const bytes = await buildPack([], { codec });
    expect(bytes.length).toBe(32);
    expect(indexWithGit(bytes).kinds.size).toBe(0);
  });

  test("a window of one finds no deltas", async () => {
    const { result } = await pack(all.specs.slice(0, 400), false, { codec, window: 1, reuseDeltas: false });
    expect(result.freshDeltas).toBe(0);
  });

  test("progress reports every phase up to its total", async () => {
    const seen = new Map<PackPhase, [number, number]>();
    await pack(all.specs.slice(0, 300), false, { codec, onProgress: (phase, done, total) => seen.set(phase, [done, total]) });
    expect([...seen.keys()]).toEqual(["counting", "compressing", "writing"]);
    for (const [done, total] of seen.values()) expect(done).toBe(total);
    expect(seen.get("writing")).toEqual([300, 300]);
  });

  test("index entries match git's index", async () => {
    const specs = all.specs.slice(0, 500);
    const { pack: bytes, result } = await pack(specs, true, { codec, indexEntries: true });
    const scratchRepo = tempDir();
    try {
      git(["init", "-q", "--bare", scratchRepo.path]);
      const name = gitText(["index-pack", "--stdin"], { cwd: scratchRepo.path, input: bytes }).replace(/^pack\s+/, "");
      const expected = gitText(["show-index"], { input: await Bun.file(join(scratchRepo.path, "objects", "pack", `pack-${name}.idx`)).bytes() })
        .split("\n")
        .map((text) => text.split(" "))
        .map(([offset, oid, crc]) => `${oid} ${offset} ${crc}`)
        .sort();
      const actual = result.entries!.map((entry) => `${entry.oid} ${entry.offset} (${entry.crc32.toString(16).padStart(8, "0")})`).sort();
      expect(actual).toEqual(expected);
    } finally {
      scratchRepo.cleanup();
    }
  });

  test("stored deltas that form a cycle are broken and the pack stays valid", async () => {
    const a = textObject(Array.from({ length: 100 }, (_, i) => `alpha ${i}`).join("\n"));
    const b = textObject(Array.from({ length: 100 }, (_, i) => `alpha ${i === 50 ? "beta" : i}`).join("\n"));
    const [oidA, oidB] = [a, b].map((object) => hashObject(codec, object.type, object.data));
    const cyclic = new Map([
      [oidA, storedDelta(codec, createDelta(b.data, a.data)!, oidB)],
      [oidB, storedDelta(codec, createDelta(a.data, b.data)!, oidA)],
    ]);
    const source = memorySource(new Map([[oidA, a], [oidB, b]]), cyclic);
    const specs: PackObjectSpec[] = [{ oid: oidA, type: "blob" }, { oid: oidB, type: "blob" }];
    const chunks = writePack(specs, source, { codec });
    const { pack: bytes } = await collect(chunks);
    const { kinds, depths } = indexWithGit(bytes);
    expect(kinds.size).toBe(2);
    expect(depths).toEqual([1]);
  });

  test("a missing object and a wrong type are typed errors", async () => {
    const blob = textObject("x".repeat(100));
    const oid = hashObject(codec, blob.type, blob.data);
    const source = memorySource(new Map([[oid, blob]]));
    await expect(collect(writePack([{ oid: "1".repeat(40), type: "blob" }], source, { codec }))).rejects.toThrow(MissingObjectError);
    await expect(collect(writePack([{ oid, type: "tree" }], source, { codec }))).rejects.toThrow(CorruptDataError);
  });
});
