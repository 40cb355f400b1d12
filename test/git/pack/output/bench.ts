/**
 * Pack writer against `git pack-objects --threads=1` on a generated repository of tens of
 * thousands of objects, both reading from the same pack. Not a test (no timed assertions):
 *   bun run test/git/pack/output/bench.ts [runs]
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { generateRepository, medianMs, run } from "../../../../scripts/bench/fixtures.ts";
import { nativeCodec } from "../../../../src/git/codec/index.ts";
import { decodePackIndex } from "../../../../src/git/idxfile/index.ts";
import type { ObjectType } from "../../../../src/git/object/object.ts";
import { ObjectDatabase } from "../../../../src/git/odb/index.ts";
import { PackFile } from "../../../../src/git/pack/packfile.ts";
import { writePack, type PackWriteOptions } from "../../../../src/git/pack/output/index.ts";
import type { PackObjectSpec } from "../../../../src/git/pack/types.ts";

const runs = Number(process.argv[2] ?? 3);
const repo = generateRepository("/tmp/stategit-bench-pack-output", { files: 300, commits: 6000, editsPerCommit: 3, randomBytesPerCommit: 0 });
const decoder = new TextDecoder();

function openDatabase(): ObjectDatabase {
  const db = new ObjectDatabase(nativeCodec);
  const packDir = join(repo, "objects", "pack");
  for (const name of readdirSync(packDir).filter((file) => file.endsWith(".idx"))) {
    const index = decodePackIndex(new Uint8Array(readFileSync(join(packDir, name))), nativeCodec);
    const bytes = new Uint8Array(readFileSync(join(packDir, name.replace(/\.idx$/, ".pack"))));
    db.addPack(new PackFile(bytes, index, nativeCodec, db.cache));
  }
  return db;
}

const lines = decoder.decode(run(["git", "rev-list", "--objects", "--all"], { cwd: repo }));
const types = new Map(
  decoder
    .decode(run(["git", "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype) %(objectsize)"], { cwd: repo }))
    .trim()
    .split("\n")
    .map((text) => text.split(" "))
    .map(([oid, type, size]) => [oid, { type: type as ObjectType, size: Number(size) }]),
);
const specs: PackObjectSpec[] = lines
  .trim()
  .split("\n")
  .map((text) => ({ oid: text.slice(0, 40), type: types.get(text.slice(0, 40))!.type, path: text.length > 41 ? text.slice(41) : undefined }));
const inflated = specs.reduce((sum, spec) => sum + types.get(spec.oid)!.size, 0);
console.log(`${specs.length} objects, ${(inflated / 1e6).toFixed(1)} MB inflated`);

async function ours(options: PackWriteOptions): Promise<number> {
  let size = 0;
  for await (const chunk of writePack(specs, openDatabase(), { codec: nativeCodec, ...options })) size += chunk.length;
  return size;
}

function theirs(extra: string[]): number {
  return run(["git", "pack-objects", "--threads=1", "--window=10", "--depth=50", "--stdout", "-q", ...extra], { cwd: repo, input: new TextEncoder().encode(lines) }).length;
}

for (const [label, options, extra] of [
  ["fresh delta search", { reuseDeltas: false }, ["--no-reuse-delta"]],
  ["reusing stored deltas", {}, []],
] as const) {
  let ourSize = 0;
  let gitSize = 0;
  const ourMs = await medianMs(runs, async () => (ourSize = await ours(options)));
  const gitMs = await medianMs(runs, () => (gitSize = theirs([...extra])));
  console.log(
    `${label}: stategit ${ourMs.toFixed(0)} ms, ${ourSize} B; git ${gitMs.toFixed(0)} ms, ${gitSize} B; ` +
      `time ${(ourMs / gitMs).toFixed(2)}x, size ${(ourSize / gitSize).toFixed(3)}x`,
  );
}
