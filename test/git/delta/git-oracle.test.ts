/**
 * C git as the oracle: the deltas `git repack` and `git pack-objects` write must apply with
 * applyDelta to exactly the objects git has, and for the same base/target pairs our own
 * deltas must be about as small as git's.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Codec } from "../../../src/git/codec/codec.ts";
import { applyDelta } from "../../../src/git/delta/apply.ts";
import { DeltaIndex } from "../../../src/git/delta/create.ts";
import { hashObject, parseObjectType, type ObjectType } from "../../../src/git/object/object.ts";
import { oidToHex, type Oid } from "../../../src/git/oid.ts";
import { PackObjectKind, PACK_HEADER_BYTES, readEntryHeader, readPackHeader } from "../../../src/git/pack/format.ts";
import { CODECS } from "../codecs.ts";
import { git, gitText, tempDir } from "../../support/git.ts";
import { concat, EDITS, randomBytes, randomInt, randomText, seededRandom } from "./support.ts";

const TEXT_FILES = 12;
const BINARY_FILES = 2;
const COMMITS = 120;

/** A history of text files with line edits and binary files with scattered changes. */
function fastImportStream(): Uint8Array {
  const random = seededRandom(31);
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const emit = (text: string) => parts.push(encoder.encode(text));
  const files = new Map<string, Uint8Array>();
  for (let i = 0; i < TEXT_FILES; i++) files.set(`notes/file${i}.md`, randomText(random, 40 + randomInt(random, 200)));
  for (let i = 0; i < BINARY_FILES; i++) files.set(`assets/data${i}.bin`, randomBytes(random, 48 * 1024));
  const paths = [...files.keys()];
  for (let commit = 1; commit <= COMMITS; commit++) {
    emit(`commit refs/heads/main\ncommitter Oracle <oracle@example.com> ${1700000000 + commit * 60} +0000\n`);
    const message = encoder.encode(`commit ${commit}\n`);
    emit(`data ${message.length}\n`);
    parts.push(message);
    const touched = commit === 1 ? paths : [paths[randomInt(random, paths.length)], paths[randomInt(random, paths.length)]];
    for (const path of touched) {
      if (commit > 1) {
        const old = files.get(path) as Uint8Array;
        files.set(path, path.endsWith(".md") ? editText(old) : EDITS[random() < 0.5 ? "overwrite" : "insert"](random, old));
      }
      const content = files.get(path) as Uint8Array;
      emit(`M 100644 inline ${path}\ndata ${content.length}\n`);
      parts.push(content);
      emit("\n");
    }
  }
  return concat(...parts);

  /** Replaces, inserts or deletes a line or two, as an edited note would. */
  function editText(old: Uint8Array): Uint8Array {
    const lines = new TextDecoder().decode(old).split("\n");
    const at = randomInt(random, lines.length);
    const fresh = new TextDecoder().decode(randomText(random, 1 + randomInt(random, 2))).trimEnd().split("\n");
    lines.splice(at, randomInt(random, 3), ...fresh);
    return encoder.encode(lines.join("\n"));
  }
}

interface DeltaEntry {
  offset: number;
  /** The inflated delta bytes. */
  delta: Uint8Array;
  baseOffset?: number;
  baseOid?: Oid;
}

/** Walks a pack entry by entry (each zlib stream's length tells where the next starts). */
function deltaEntries(pack: Uint8Array, codec: Codec): DeltaEntry[] {
  const { objectCount } = readPackHeader(pack);
  const entries: DeltaEntry[] = [];
  let offset = PACK_HEADER_BYTES;
  for (let i = 0; i < objectCount; i++) {
    const header = readEntryHeader(pack, offset);
    const { data, bytesRead } = codec.inflate(pack.subarray(offset + header.headerLength), header.size);
    if (header.kind === PackObjectKind.OfsDelta) entries.push({ offset, delta: data, baseOffset: header.baseOffset });
    if (header.kind === PackObjectKind.RefDelta) entries.push({ offset, delta: data, baseOid: oidToHex(pack, header.baseOidOffset) });
    offset += header.headerLength + bytesRead;
  }
  return entries;
}

/** Every object of the repository, read with one `git cat-file --batch`. */
function readAllObjects(gitDir: string): Map<Oid, { type: ObjectType; data: Uint8Array }> {
  const oids = gitText(["cat-file", "--batch-all-objects", "--batch-check=%(objectname)"], { cwd: gitDir }).split("\n");
  const output = git(["cat-file", "--batch"], { cwd: gitDir, input: oids.join("\n") + "\n" }).stdout;
  const objects = new Map<Oid, { type: ObjectType; data: Uint8Array }>();
  let pos = 0;
  while (pos < output.length) {
    const lineEnd = output.indexOf(0x0a, pos);
    const [oid, type, size] = new TextDecoder().decode(output.subarray(pos, lineEnd)).split(" ");
    const start = lineEnd + 1;
    objects.set(oid, { type: parseObjectType(type), data: output.slice(start, start + Number(size)) });
    pos = start + Number(size) + 1;
  }
  return objects;
}

/** Pack offsets to object ids, from `git show-index` over the pack's .idx. */
function offsetsToOids(idx: Uint8Array): Map<number, Oid> {
  const map = new Map<number, Oid>();
  for (const line of gitText(["show-index"], { input: idx }).split("\n")) {
    const [offset, oid] = line.split(" ");
    map.set(Number(offset), oid);
  }
  return map;
}

let repo: ReturnType<typeof tempDir>;
let objects: Map<Oid, { type: ObjectType; data: Uint8Array }>;
/** `git repack -adf --depth=50 --window=250`: OFS_DELTA entries. */
let repacked: Uint8Array;
let repackedOids: Map<number, Oid>;
/** `git pack-objects` without --delta-base-offset: REF_DELTA entries. */
let refPack: Uint8Array;

beforeAll(() => {
  repo = tempDir("stategit-delta-oracle-");
  git(["init", "-q", "--bare", repo.path]);
  git(["fast-import", "--quiet"], { cwd: repo.path, input: fastImportStream() });
  git(["repack", "-adfq", "--depth=50", "--window=250"], { cwd: repo.path });
  const packDir = join(repo.path, "objects", "pack");
  const packName = readdirSync(packDir).find((name) => name.endsWith(".pack")) as string;
  repacked = new Uint8Array(readFileSync(join(packDir, packName)));
  repackedOids = offsetsToOids(new Uint8Array(readFileSync(join(packDir, packName.replace(/\.pack$/, ".idx")))));
  refPack = git(["pack-objects", "--all", "--stdout", "-q", "--no-reuse-delta", "--window=50", "--depth=50"], { cwd: repo.path }).stdout;
  objects = readAllObjects(repo.path);
});

afterAll(() => repo?.cleanup());

describe.each(CODECS)("deltas written by C git apply (%s codec)", (_name, codec) => {
  /** Applies the delta to its base and checks the result is the object git says it is. */
  function checkApplies(entry: DeltaEntry, baseOid: Oid, expectedOid: Oid | undefined): void {
    const base = objects.get(baseOid);
    if (!base) throw new Error(`base ${baseOid} is not in the repository`);
    const result = applyDelta(base.data, entry.delta);
    const oid = hashObject(codec, base.type, result);
    if (expectedOid !== undefined) expect(oid).toBe(expectedOid);
    expect(objects.get(oid)?.data).toEqual(result);
  }

  test("OFS_DELTA entries of git repack --depth=50 --window=250", () => {
    const entries = deltaEntries(repacked, codec);
    expect(entries.length).toBeGreaterThan(150);
    for (const entry of entries) {
      expect(entry.baseOffset).toBeDefined();
      checkApplies(entry, repackedOids.get(entry.baseOffset as number) as Oid, repackedOids.get(entry.offset));
    }
  });

  test("REF_DELTA entries of git pack-objects", () => {
    const entries = deltaEntries(refPack, codec);
    expect(entries.length).toBeGreaterThan(150);
    for (const entry of entries) checkApplies(entry, entry.baseOid as Oid, undefined);
  });
});

test("our deltas of the pairs git chose are about as small as git's", () => {
  let ours = 0;
  let gits = 0;
  let pairs = 0;
  for (const entry of deltaEntries(repacked, CODECS[0][1])) {
    const base = objects.get(repackedOids.get(entry.baseOffset as number) as Oid);
    const target = objects.get(repackedOids.get(entry.offset) as Oid);
    if (!base || !target || base.type !== "blob") continue;
    const delta = new DeltaIndex(base.data).createDelta(target.data);
    if (!delta) throw new Error("createDelta without a bound must always give a delta");
    expect(applyDelta(base.data, delta)).toEqual(target.data);
    // Loosely per pair (a few bytes either way on tiny deltas), tightly in total.
    expect(delta.length).toBeLessThanOrEqual(entry.delta.length * 1.5 + 16);
    ours += delta.length;
    gits += entry.delta.length;
    pairs++;
  }
  expect(pairs).toBeGreaterThan(100);
  expect(ours).toBeLessThanOrEqual(gits * 1.15);
});
