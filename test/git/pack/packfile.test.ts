import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Codec } from "../../../src/git/codec/codec.ts";
import { applyDelta } from "../../../src/git/delta/apply.ts";
import { createDelta } from "../../../src/git/delta/create.ts";
import { CorruptDataError, GitError, LimitExceededError, MissingObjectError } from "../../../src/git/errors.ts";
import { decodePackIndex, encodePackIndex } from "../../../src/git/idxfile/index.ts";
import { hashObject, type GitObject } from "../../../src/git/object/object.ts";
import { ObjectCache } from "../../../src/git/odb/cache.ts";
import { hexToOid, oidToHex, type Oid } from "../../../src/git/oid.ts";
import { encodeEntryHeader, PACK_TRAILER_BYTES, PackObjectKind, writePackHeader } from "../../../src/git/pack/format.ts";
import { PackFile } from "../../../src/git/pack/packfile.ts";
import { DEFAULT_PACK_LIMITS } from "../../../src/git/pack/types.ts";
import { git, gitText, tempDir } from "../../support/git.ts";
import { seededRandom } from "../../support/random.ts";
import { CODECS } from "../codecs.ts";
import { repoFixture, repositoryReader } from "./input/fixtures.ts";

const encoder = new TextEncoder();

interface HandEntry {
  /** The id the index records (any id for a delta whose result is never checked). */
  oid: Oid;
  kind: PackObjectKind;
  data: Uint8Array;
  /** OFS_DELTA: the position of the base among the entries. */
  ofsBase?: number;
  /** REF_DELTA: the base's id. */
  refBase?: Oid;
  /** The size the entry header declares, when it must lie. */
  declaredSize?: number;
}

/** A pack and index written entry by entry, to build what git never writes. */
function handMadePack(codec: Codec, entries: HandEntry[]): { pack: Uint8Array; idx: Uint8Array } {
  const parts: Uint8Array[] = [writePackHeader(entries.length)];
  const offsets: number[] = [];
  const indexEntries: { oid: Oid; offset: number; crc32: number }[] = [];
  let offset = parts[0].length;
  for (const entry of entries) {
    offsets.push(offset);
    const distance = entry.ofsBase === undefined ? undefined : offset - offsets[entry.ofsBase];
    const header = encodeEntryHeader(entry.kind, entry.declaredSize ?? entry.data.length, distance);
    const base = entry.refBase === undefined ? new Uint8Array(0) : hexToOid(entry.refBase);
    const body = codec.deflate(entry.data);
    const bytes = new Uint8Array(header.length + base.length + body.length);
    bytes.set(header);
    bytes.set(base, header.length);
    bytes.set(body, header.length + base.length);
    parts.push(bytes);
    indexEntries.push({ oid: entry.oid, offset, crc32: codec.crc32(bytes) });
    offset += bytes.length;
  }
  const hasher = codec.sha1();
  for (const part of parts) hasher.update(part);
  const trailer = hasher.digest();
  const pack = new Uint8Array(offset + trailer.length);
  let at = 0;
  for (const part of [...parts, trailer]) {
    pack.set(part, at);
    at += part.length;
  }
  return { pack, idx: encodePackIndex(indexEntries, oidToHex(trailer), codec) };
}

/** `git pack-objects` of what `rev-list --objects <range>` lists, with its index. */
function gitPack(gitDir: string, range: string, prefix: string, options: string[]): { pack: Uint8Array; idx: Uint8Array } {
  const objects = git(["rev-list", "--objects", range], { cwd: gitDir }).stdout;
  const name = gitText(["pack-objects", "-q", "--window=20", "--depth=30", ...options, prefix], { cwd: gitDir, input: objects });
  return { pack: new Uint8Array(readFileSync(`${prefix}-${name}.pack`)), idx: new Uint8Array(readFileSync(`${prefix}-${name}.idx`)) };
}

function open(codec: Codec, files: { pack: Uint8Array; idx: Uint8Array }, cache?: ObjectCache, limits = DEFAULT_PACK_LIMITS): PackFile {
  return new PackFile(files.pack, decodePackIndex(files.idx, codec), codec, cache, limits);
}

function expectSameObject(actual: GitObject | undefined, expected: GitObject | undefined): void {
  expect(actual?.type).toBe(expected?.type);
  expect(Buffer.from(actual?.data ?? []).equals(Buffer.from(expected?.data ?? []))).toBe(true);
}

describe.each(CODECS)("PackFile (%s codec)", (_name, codec) => {
  const fixture = repoFixture(2000);
  const oracle = repositoryReader(fixture.gitDir);

  test("reads every object of a deeply deltified pack as git cat-file does", () => {
    const cache = new ObjectCache(8 * 1024 * 1024);
    const pack = open(codec, fixture, cache);
    expect(pack.objectCount).toBe(oracle.objects.size);
    let deltas = 0;
    for (const oid of pack.oids()) {
      const expected = oracle.objects.get(oid);
      expectSameObject(pack.read(oid), expected);
      expect(pack.info(oid)).toEqual({ type: expected?.type, size: expected?.data.length } as never);
      expect(pack.type(oid)).toBe(expected?.type as never);
      if (pack.stored(oid)?.baseOid) deltas++;
      expect(cache.usedBytes).toBeLessThanOrEqual(cache.maxBytes);
    }
    expect(deltas).toBeGreaterThan(oracle.objects.size / 3);
    expect(pack.read("0".repeat(40))).toBeUndefined();
    expect(pack.stored("0".repeat(40))).toBeUndefined();
  });

  test("stored entries inflate to their deltas, which rebuild the object from their base", () => {
    const pack = open(codec, fixture, new ObjectCache(4 * 1024 * 1024));
    let checked = 0;
    for (const oid of pack.oids()) {
      if (checked++ % 7 !== 0) continue;
      const stored = pack.stored(oid);
      if (!stored) throw new Error(`no stored entry for ${oid}`);
      const inflated = codec.inflate(stored.compressed, stored.size);
      expect(inflated.data.length).toBe(stored.size);
      expect(inflated.bytesRead).toBe(stored.compressed.length);
      const object = pack.read(oid) as GitObject;
      if (stored.baseOid === undefined) {
        expect(stored.kind).toBe(({ commit: 1, tree: 2, blob: 3, tag: 4 } as const)[object.type] as PackObjectKind);
        continue;
      }
      expect(stored.kind).toBe(PackObjectKind.OfsDelta);
      const base = pack.read(stored.baseOid) as GitObject;
      expect(base.type).toBe(object.type);
      const rebuilt = Buffer.from(applyDelta(base.data, inflated.data));
      expect(rebuilt.equals(Buffer.from(object.data))).toBe(true);
    }
  });

  test("the cache stays within its byte budget, and a zero budget still reads correctly", () => {
    for (const budget of [0, 64 * 1024]) {
      const cache = new ObjectCache(budget);
      const pack = open(codec, fixture, cache);
      let position = 0;
      for (const oid of pack.oids()) {
        if (position++ % 5 !== 0) continue;
        expectSameObject(pack.read(oid), oracle.objects.get(oid));
        expect(cache.usedBytes).toBeLessThanOrEqual(budget);
      }
      if (budget === 0) expect(cache.count).toBe(0);
      else expect(cache.count).toBeGreaterThan(0);
    }
  });

  test("a cached object is shared rather than rebuilt", () => {
    const pack = open(codec, fixture, new ObjectCache(1024 * 1024));
    const oid = [...pack.oids()].find((candidate) => pack.stored(candidate)?.baseOid !== undefined) as Oid;
    expect(pack.read(oid)).toBe(pack.read(oid) as GitObject);
  });

  test("REF_DELTA packs (no --delta-base-offset) read like cat-file", () => {
    const dir = tempDir();
    try {
      const files = gitPack(fixture.gitDir, "main~1700", join(dir.path, "ref"), []);
      const pack = open(codec, files, new ObjectCache(1024 * 1024));
      let refDeltas = 0;
      for (const oid of pack.oids()) {
        expectSameObject(pack.read(oid), oracle.objects.get(oid));
        if (pack.stored(oid)?.kind === PackObjectKind.RefDelta) refDeltas++;
      }
      expect(refDeltas).toBeGreaterThan(0);
    } finally {
      dir.cleanup();
    }
  });

  test("a delta chain longer than the limit is refused", () => {
    const pack = open(codec, fixture, undefined, { ...DEFAULT_PACK_LIMITS, maxDeltaDepth: 5 });
    let refused = 0;
    for (const oid of pack.oids()) {
      try {
        pack.read(oid);
      } catch (error) {
        expect(error).toBeInstanceOf(LimitExceededError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });

  test("objects larger than maxObjectSize are refused before inflating", () => {
    const pack = open(codec, fixture, undefined, { ...DEFAULT_PACK_LIMITS, maxObjectSize: 1000 });
    const large = [...oracle.objects].find(([, object]) => object.data.length > 100_000)?.[0] as Oid;
    expect(() => pack.read(large)).toThrow(LimitExceededError);
  });
});

describe.each(CODECS)("PackFile on hand-made packs (%s codec)", (_name, codec) => {
  const base = encoder.encode("the quick brown fox jumps over the lazy dog\n".repeat(20));
  const target = encoder.encode("the quick brown fox jumps over the lazy cat\n".repeat(20));
  const delta = createDelta(base, target) as Uint8Array;
  const baseOid = hashObject(codec, "blob", base);
  const targetOid = hashObject(codec, "blob", target);

  test("OFS and REF deltas resolve, REF bases found by id", () => {
    const files = handMadePack(codec, [
      { oid: baseOid, kind: PackObjectKind.Blob, data: base },
      { oid: targetOid, kind: PackObjectKind.OfsDelta, data: delta, ofsBase: 0 },
      { oid: "1".repeat(40), kind: PackObjectKind.RefDelta, data: delta, refBase: baseOid },
    ]);
    const pack = open(codec, files);
    expectSameObject(pack.read(targetOid), { type: "blob", data: target });
    expectSameObject(pack.read("1".repeat(40)), { type: "blob", data: target });
    expect(pack.stored(targetOid)?.baseOid).toBe(baseOid);
    expect(pack.stored("1".repeat(40))?.baseOid).toBe(baseOid);
    expect(pack.info(targetOid)).toEqual({ type: "blob", size: target.length });
  });

  test("a REF_DELTA base outside the pack is a MissingObjectError", () => {
    const files = handMadePack(codec, [{ oid: targetOid, kind: PackObjectKind.RefDelta, data: delta, refBase: baseOid }]);
    const pack = open(codec, files);
    expect(() => pack.read(targetOid)).toThrow(MissingObjectError);
    expect(() => pack.type(targetOid)).toThrow(MissingObjectError);
  });

  test("REF_DELTAs that are each other's base end at the chain limit", () => {
    const files = handMadePack(codec, [
      { oid: "a".repeat(40), kind: PackObjectKind.RefDelta, data: delta, refBase: "b".repeat(40) },
      { oid: "b".repeat(40), kind: PackObjectKind.RefDelta, data: delta, refBase: "a".repeat(40) },
    ]);
    const pack = open(codec, files, undefined, { ...DEFAULT_PACK_LIMITS, maxDeltaDepth: 100 });
    expect(() => pack.read("a".repeat(40))).toThrow(LimitExceededError);
  });

  test("a delta whose base has the wrong size, or an entry of another size than declared, is corrupt", () => {
    const wrongBase = handMadePack(codec, [
      { oid: targetOid, kind: PackObjectKind.Blob, data: target.subarray(1) },
      { oid: baseOid, kind: PackObjectKind.OfsDelta, data: delta, ofsBase: 0 },
    ]);
    expect(() => open(codec, wrongBase).read(baseOid)).toThrow(CorruptDataError);
    for (const declaredSize of [base.length - 1, base.length + 1, 0]) {
      const files = handMadePack(codec, [{ oid: baseOid, kind: PackObjectKind.Blob, data: base, declaredSize }]);
      expect(() => open(codec, files).read(baseOid)).toThrow(CorruptDataError);
    }
  });

  test("a pack and an index that do not belong together are refused", () => {
    const one = handMadePack(codec, [{ oid: baseOid, kind: PackObjectKind.Blob, data: base }]);
    const other = handMadePack(codec, [{ oid: targetOid, kind: PackObjectKind.Blob, data: target }]);
    expect(() => open(codec, { pack: one.pack, idx: other.idx })).toThrow(CorruptDataError);
    const two = handMadePack(codec, [
      { oid: baseOid, kind: PackObjectKind.Blob, data: base },
      { oid: targetOid, kind: PackObjectKind.Blob, data: target },
    ]);
    expect(() => open(codec, { pack: two.pack, idx: one.idx })).toThrow(CorruptDataError);
    expect(() => open(codec, { pack: one.pack.subarray(0, 20), idx: one.idx })).toThrow(CorruptDataError);
  });

  test("readAt outside the entries is refused", () => {
    const files = handMadePack(codec, [{ oid: baseOid, kind: PackObjectKind.Blob, data: base }]);
    const pack = open(codec, files);
    for (const offset of [0, 11, files.pack.length - PACK_TRAILER_BYTES, files.pack.length + 5, 12.5, -1]) {
      expect(() => pack.readAt(offset)).toThrow(CorruptDataError);
    }
  });
});

describe.each(CODECS)("PackFile fuzz (%s codec)", (_name, codec) => {
  test("mutated entries give typed errors or objects, never crashes", () => {
    const fixture = repoFixture(2000);
    const dir = tempDir();
    try {
      const files = gitPack(fixture.gitDir, "main~1950", join(dir.path, "fuzz"), ["--delta-base-offset"]);
      const oids = [...open(codec, files).oids()];
      const random = seededRandom(1234);
      for (let iteration = 0; iteration < 40; iteration++) {
        const pack = files.pack.slice();
        const flips = 1 + Math.floor(random() * 4);
        for (let i = 0; i < flips; i++) {
          const at = 12 + Math.floor(random() * (pack.length - 32));
          pack[at] = Math.floor(random() * 256);
        }
        const reader = open(codec, { pack, idx: files.idx }, new ObjectCache(256 * 1024));
        for (const oid of oids) {
          for (const read of [() => reader.read(oid), () => reader.info(oid), () => reader.stored(oid)]) {
            try {
              read();
            } catch (error) {
              if (!(error instanceof GitError)) throw error;
            }
          }
        }
      }
      for (let iteration = 0; iteration < 20; iteration++) {
        const cut = Math.floor(random() * files.pack.length);
        expect(() => open(codec, { pack: files.pack.subarray(0, cut), idx: files.idx })).toThrow(CorruptDataError);
      }
    } finally {
      dir.cleanup();
    }
  });
});
