/**
 * The git engine against C git on one generated repository (a pack of ≥50 MB, ~30k objects,
 * most of them deltas): `bun run scripts/bench/engine.ts [runs]` (default 3; the median counts).
 * Not a test: no timed assertions, it prints a table.
 *
 * - index-pack: indexPack + encodePackIndex on the pack in memory, against
 *   `git index-pack --threads=1 -o X.idx PACK` (which reads it from disk; the page cache holds it).
 * - pack-objects, fresh deltas: writePack of every object with reuseDeltas off (window 10,
 *   depth 50, OFS_DELTA), against `git pack-objects --no-reuse-delta --threads=1 --window=10
 *   --depth=50 --delta-base-offset` fed `git rev-list --objects --all`; both read the same pack
 *   and copy its whole objects' compressed bytes.
 * - pack-objects, stored deltas reused: the same with delta reuse on (git's default).
 * Every row runs with the native codec (Bun's zlib and SHA-1) and the portable one (pako and
 * sha1-uint8array). Our outputs are checked against git's: the same .idx bytes, and packs
 * that `git index-pack` accepts.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { nativeCodec, portableCodec, type Codec } from "../../src/git/codec/index.ts";
import { decodePackIndex, encodePackIndex } from "../../src/git/idxfile/index.ts";
import { ObjectDatabase } from "../../src/git/odb/index.ts";
import { indexPack } from "../../src/git/pack/input/index.ts";
import { writePack, type PackWriteOptions, type PackWriteResult } from "../../src/git/pack/output/index.ts";
import { PackFile } from "../../src/git/pack/packfile.ts";
import type { PackObjectSpec } from "../../src/git/pack/types.ts";
import { verifyPack } from "../../src/git/pack/verify.ts";
import { generateRepository, medianMs, run } from "./fixtures.ts";

const RUNS = Number(process.argv[2] ?? 3);
const CODECS: readonly Codec[] = [nativeCodec, portableCodec];
const BENCH_DIR = resolve(import.meta.dir, "../../.bench");
const decoder = new TextDecoder();

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

/**
 * The repository, its pack recomputed once by `git repack -adf` so most objects are deltas, as
 * in a repository git has gc'ed (fast-import alone deltifies few of them).
 */
function benchRepository(): string {
  const repo = generateRepository(join(BENCH_DIR, "engine-repo.git"), { files: 1000, commits: 2000, editsPerCommit: 6, randomBytesPerCommit: 24000 });
  const marker = join(repo, "stategit-bench-repacked");
  if (existsSync(marker)) return repo;
  log("repacking the benchmark repository with fresh deltas (once)");
  run(["git", "repack", "-adfq", "--threads=1", "--window=10", "--depth=50"], { cwd: repo });
  writeFileSync(marker, "");
  return repo;
}

const repo = benchRepository();
const packDir = join(repo, "objects", "pack");
const packName = readdirSync(packDir).find((file) => file.endsWith(".pack"));
if (!packName) throw new Error(`no pack in ${packDir}`);
const packPath = join(packDir, packName);
const pack = new Uint8Array(readFileSync(packPath));
const gitIdx = new Uint8Array(readFileSync(packPath.replace(/\.pack$/, ".idx")));

function openDatabase(codec: Codec): ObjectDatabase {
  const db = new ObjectDatabase(codec);
  db.addPack(new PackFile(pack, decodePackIndex(gitIdx, codec), codec, db.cache));
  return db;
}

/** `git rev-list --objects --all`: what both writers pack, most recent first, with path hints. */
const revList = run(["git", "rev-list", "--objects", "--all"], { cwd: repo });
const specs: PackObjectSpec[] = (() => {
  const db = openDatabase(nativeCodec);
  return decoder
    .decode(revList)
    .trim()
    .split("\n")
    .map((line) => {
      const oid = line.slice(0, 40);
      const type = db.readType(oid);
      if (!type) throw new Error(`rev-list names ${oid}, which the pack lacks`);
      return { oid, type, path: line.length > 41 ? line.slice(41) : undefined };
    });
})();

interface Row {
  step: string;
  codec: string;
  oursMs: number;
  gitMs: number;
  oursBytes?: number;
  gitBytes?: number;
}
const rows: Row[] = [];

// Indexing.
const gitIndexMs = await medianMs(RUNS, () => run(["git", "index-pack", "--threads=1", "-o", join(BENCH_DIR, "engine-git.idx"), packPath]));
for (const codec of CODECS) {
  log(`index-pack, ${codec.name} codec`);
  let idx: Uint8Array = new Uint8Array(0);
  const oursMs = await medianMs(RUNS, () => {
    const indexed = indexPack(pack, { codec });
    idx = encodePackIndex(indexed.entries, indexed.packChecksum, codec);
  });
  if (Buffer.compare(idx, gitIdx) !== 0) throw new Error(`the ${codec.name} codec's .idx differs from git's`);
  rows.push({ step: "index-pack", codec: codec.name, oursMs, gitMs: gitIndexMs });
}

// Writing.
const WRITES: readonly { step: string; options: PackWriteOptions; gitFlags: string[] }[] = [
  { step: "pack-objects, fresh deltas", options: { reuseDeltas: false }, gitFlags: ["--no-reuse-delta"] },
  { step: "pack-objects, stored deltas reused", options: {}, gitFlags: [] },
];

/** Our pack's chunks, and the writer's account of its deltas. */
async function writeOurs(codec: Codec, options: PackWriteOptions): Promise<{ chunks: Uint8Array[]; result: PackWriteResult }> {
  const chunks: Uint8Array[] = [];
  const writer = writePack(specs, openDatabase(codec), { codec, window: 10, depth: 50, ...options });
  for (;;) {
    const step = await writer.next();
    if (step.done) return { chunks, result: step.value };
    chunks.push(step.value);
  }
}

for (const { step, options, gitFlags } of WRITES) {
  log(`${step}, git`);
  let gitBytes = 0;
  const gitMs = await medianMs(RUNS, () => {
    const args = ["git", "pack-objects", "--threads=1", "--window=10", "--depth=50", "--delta-base-offset", "--stdout", "-q", ...gitFlags];
    gitBytes = run(args, { cwd: repo, input: revList }).length;
  });
  for (const codec of CODECS) {
    log(`${step}, ${codec.name} codec`);
    let written = { chunks: [] as Uint8Array[], result: {} as PackWriteResult };
    const oursMs = await medianMs(RUNS, async () => (written = await writeOurs(codec, options)));
    const { chunks, result } = written;
    log(`  ${result.objectCount} objects: ${result.freshDeltas} fresh deltas, ${result.reusedDeltas} reused, ${result.reusedObjects} whole objects copied`);
    // git must accept what we wrote: every object, every delta resolved, the trailer right.
    const oursPath = join(BENCH_DIR, "engine-ours.pack");
    writeFileSync(oursPath, Buffer.concat(chunks));
    run(["git", "index-pack", "--threads=1", "--strict", oursPath], { cwd: repo });
    rows.push({ step, codec: codec.name, oursMs, gitMs, oursBytes: chunks.reduce((sum, chunk) => sum + chunk.length, 0), gitBytes });
  }
}

const { objectCount, deltaCount } = verifyPack(pack, gitIdx, nativeCodec);
const MB = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const exactly = (bytes: number) => `${bytes.toLocaleString("en")} B`;
const table = [
  ["step", "codec", "stategit", "git", "time ×git", "size ×git"],
  ...rows.map((row) => [
    row.step,
    row.codec,
    `${row.oursMs.toFixed(0)} ms${row.oursBytes === undefined ? "" : `, ${exactly(row.oursBytes)}`}`,
    `${row.gitMs.toFixed(0)} ms${row.gitBytes === undefined ? "" : `, ${exactly(row.gitBytes)}`}`,
    `${(row.oursMs / row.gitMs).toFixed(2)}×`,
    row.oursBytes === undefined || row.gitBytes === undefined ? "" : `${(row.oursBytes / row.gitBytes).toFixed(4)}×`,
  ]),
];
const widths = table[0].map((_, column) => Math.max(...table.map((cells) => cells[column].length)));
console.log(`engine benchmark: ${packName}, ${MB(pack.length)}, ${objectCount} objects of which ${deltaCount} deltas; median of ${RUNS} runs; git --threads=1`);
for (const cells of table) console.log(`| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(" | ")} |`);
for (const scratch of ["engine-git.idx", "engine-ours.pack", "engine-ours.idx"]) rmSync(join(BENCH_DIR, scratch), { force: true });
