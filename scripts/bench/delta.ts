/**
 * Delta engine micro-benchmark: `bun run scripts/bench/delta.ts`.
 *
 * Inputs (deterministic): versions of real source files (the JavaScript of pinned
 * dependencies) with small line edits, and a 1 MiB binary with scattered changes. Each set is
 * imported into a repository and repacked by C git (`--window=10 --depth=50 --threads=1`);
 * for every base/target pair git deltified, our delta is computed for the same pair and the
 * sizes are compared. Throughput is measured on those pairs, on git-style window search
 * (10 candidates per target, each bounded by the best delta so far), on hopeless candidates
 * (unrelated data under a bound) and on applying the deltas.
 */
import { readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nativeCodec } from "../../src/git/codec/index.ts";
import { applyDelta } from "../../src/git/delta/apply.ts";
import { DeltaIndex } from "../../src/git/delta/create.ts";
import { hashObject } from "../../src/git/object/object.ts";
import { medianMs, prng, run } from "./fixtures.ts";

const RUNS = 11;
const WINDOW = 10;
const MiB = 1024 * 1024;

interface Version {
  path: string;
  data: Uint8Array;
}

/** 6 versions of each of up to 80 source files, each version 1-3 line edits after the last. */
function sourceVersions(): Version[] {
  const random = prng(1);
  const roots = ["node_modules/hono/dist", "node_modules/yaml/dist", "node_modules/postgres/src"];
  const files = roots
    .flatMap((root) => readdirSync(root, { recursive: true, encoding: "utf8" }).map((name) => join(root, name)))
    .filter((path) => path.endsWith(".js"))
    .sort()
    .map((path) => ({ path, text: readFileSync(path, "utf8") }))
    .filter(({ text }) => text.length > 4096 && text.length < 80_000)
    .slice(0, 80);
  const versions: Version[] = [];
  for (const { path, text } of files) {
    let lines = text.split("\n");
    for (let version = 0; version < 6; version++) {
      if (version > 0) {
        lines = lines.slice();
        for (let edit = 1 + Math.floor(random() * 3); edit > 0; edit--) {
          const at = Math.floor(random() * lines.length);
          const replacement = lines[Math.floor(random() * lines.length)];
          lines.splice(at, Math.floor(random() * 3), ...(random() < 0.7 ? [replacement] : []));
        }
      }
      versions.push({ path, data: new TextEncoder().encode(lines.join("\n")) });
    }
  }
  return versions;
}

/** A 1 MiB random binary and 4 versions, each with 100 scattered overwrites, inserts and deletes. */
function binaryVersions(): Version[] {
  const random = prng(2);
  let data = Uint8Array.from({ length: MiB }, () => Math.floor(random() * 256));
  const versions: Version[] = [{ path: "blob.bin", data }];
  for (let version = 1; version < 5; version++) {
    const parts: Uint8Array[] = [];
    let from = 0;
    const cuts = Array.from({ length: 100 }, () => Math.floor(random() * data.length)).sort((a, b) => a - b);
    for (const cut of cuts) {
      parts.push(data.subarray(from, Math.max(from, cut)));
      const fresh = Uint8Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256));
      const kind = random();
      let skipped = Math.floor(random() * 64); // a deletion
      if (kind < 0.8) parts.push(fresh);
      if (kind < 0.4) skipped = fresh.length; // an overwrite
      else if (kind < 0.8) skipped = 0; // an insertion
      from = Math.min(data.length, Math.max(from, cut) + skipped);
    }
    parts.push(data.subarray(from));
    data = new Uint8Array(Buffer.concat(parts));
    versions.push({ path: "blob.bin", data });
  }
  return versions;
}

interface GitPair {
  base: Uint8Array;
  target: Uint8Array;
  gitDeltaSize: number;
}

/** Commits the versions (one commit per round of versions), repacks with C git, returns its delta pairs. */
function gitDeltaPairs(versions: Version[], label: string): { pairs: GitPair[]; repackMs: number } {
  const dir = join(tmpdir(), `stategit-bench-delta-${label}-${process.pid}`);
  try {
    run(["git", "init", "-q", "--bare", dir]);
    const encoder = new TextEncoder();
    const byOid = new Map<string, Uint8Array>();
    const parts: Uint8Array[] = [];
    const rounds = new Map<number, Version[]>();
    const seen = new Map<string, number>();
    for (const version of versions) {
      const round = seen.get(version.path) ?? 0;
      seen.set(version.path, round + 1);
      rounds.set(round, [...(rounds.get(round) ?? []), version]);
      byOid.set(hashObject(nativeCodec, "blob", version.data), version.data);
    }
    for (const [round, roundVersions] of rounds) {
      parts.push(encoder.encode(`commit refs/heads/main\ncommitter Bench <bench@example.com> ${1700000000 + round} +0000\ndata 0\n`));
      for (const { path, data } of roundVersions) parts.push(encoder.encode(`M 100644 inline ${path}\ndata ${data.length}\n`), data, encoder.encode("\n"));
    }
    run(["git", "fast-import", "--quiet"], { cwd: dir, input: Buffer.concat(parts) });
    const start = performance.now();
    run(["git", "repack", "-adfq", `--window=${WINDOW}`, "--depth=50", "--threads=1"], { cwd: dir });
    const repackMs = performance.now() - start;
    const packDir = join(dir, "objects", "pack");
    const idx = readdirSync(packDir).find((name) => name.endsWith(".idx")) as string;
    const pairs: GitPair[] = [];
    for (const line of new TextDecoder().decode(run(["git", "verify-pack", "-v", join(packDir, idx)])).split("\n")) {
      const [oid, type, size, , , , baseOid] = line.split(/\s+/);
      const base = byOid.get(baseOid);
      const target = byOid.get(oid);
      if (type === "blob" && base && target) pairs.push({ base, target, gitDeltaSize: Number(size) });
    }
    return { pairs, repackMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** git's name hash (pack-objects sorts delta candidates by it, then by size descending). */
function nameHash(path: string): number {
  let hash = 0;
  for (const char of path) {
    const code = char.charCodeAt(0);
    if (code > 32) hash = ((hash >>> 2) + (code << 24)) >>> 0;
  }
  return hash;
}

/** Window search as pack-objects does it; returns the deltas found, as [base, target, delta]. */
function windowSearch(versions: Version[]): [Uint8Array, Uint8Array, Uint8Array][] {
  const sorted = versions.slice().sort((a, b) => nameHash(a.path) - nameHash(b.path) || b.data.length - a.data.length);
  const indexes: (DeltaIndex | undefined)[] = [];
  const found: [Uint8Array, Uint8Array, Uint8Array][] = [];
  for (let i = 0; i < sorted.length; i++) {
    const target = sorted[i].data;
    let bound = Math.floor(target.length / 2) - 20;
    let best: [Uint8Array, Uint8Array, Uint8Array] | undefined;
    for (let j = i - 1; j >= Math.max(0, i - WINDOW) && bound > 0; j--) {
      indexes[j] ??= new DeltaIndex(sorted[j].data);
      const delta = indexes[j]?.createDelta(target, bound);
      if (delta) {
        best = [sorted[j].data, target, delta];
        bound = delta.length - 1;
      }
    }
    indexes[i - WINDOW] = undefined;
    if (best) found.push(best);
  }
  return found;
}

/** Median of RUNS timed calls after two untimed ones (so the JIT has compiled the hot loops). */
async function measure(body: () => unknown): Promise<number> {
  body();
  body();
  return medianMs(RUNS, body);
}

const mibPerSecond = (bytes: number, ms: number) => `${((bytes / MiB) * (1000 / ms)).toFixed(0)} MiB/s`;
const rows: string[][] = [];

for (const [label, versions] of [
  ["source files, small edits", sourceVersions()],
  ["1 MiB binary, scattered changes", binaryVersions()],
] as const) {
  const { pairs, repackMs } = gitDeltaPairs(versions, label.split(" ")[0]);
  const ours = pairs.map(({ base, target }) => new DeltaIndex(base).createDelta(target) as Uint8Array);
  const oursBytes = ours.reduce((sum, delta) => sum + delta.length, 0);
  const gitBytes = pairs.reduce((sum, pair) => sum + pair.gitDeltaSize, 0);
  const targetBytes = pairs.reduce((sum, pair) => sum + pair.target.length, 0);
  const baseBytes = pairs.reduce((sum, pair) => sum + pair.base.length, 0);
  const indexes = pairs.map(({ base }) => new DeltaIndex(base));
  const indexMs = await measure(() => pairs.map(({ base }) => new DeltaIndex(base)));
  const createMs = await measure(() => pairs.map(({ target }, i) => indexes[i].createDelta(target)));
  const applyMs = await measure(() => pairs.map(({ base }, i) => applyDelta(base, ours[i])));
  const found = windowSearch(versions);
  const searchMs = await measure(() => windowSearch(versions));
  for (const [base, target, delta] of found) {
    if (Buffer.compare(applyDelta(base, delta), target) !== 0) throw new Error("a delta does not apply");
  }
  const totalBytes = versions.reduce((sum, version) => sum + version.data.length, 0);
  rows.push(
    [label, `${versions.length} versions, ${(totalBytes / MiB).toFixed(1)} MiB; git deltified ${pairs.length} pairs`],
    ["  delta bytes, ours / git", `${oursBytes} / ${gitBytes} = ${(oursBytes / gitBytes).toFixed(3)}`],
    ["  index build", `${indexMs.toFixed(1)} ms, ${mibPerSecond(baseBytes, indexMs)}`],
    ["  createDelta on git's pairs", `${createMs.toFixed(1)} ms, ${mibPerSecond(targetBytes, createMs)} of target`],
    ["  applyDelta", `${applyMs.toFixed(1)} ms, ${mibPerSecond(targetBytes, applyMs)} of result`],
    [`  window search (${WINDOW} candidates)`, `${searchMs.toFixed(1)} ms for ${found.length} deltas; git repack --threads=1 took ${repackMs.toFixed(0)} ms in all`],
  );
}

const random = prng(3);
const unrelated = Array.from({ length: 2 }, () => Uint8Array.from({ length: 4 * MiB }, () => Math.floor(random() * 256)));
const hopelessIndex = new DeltaIndex(unrelated[0]);
const hopelessMs = await measure(() => hopelessIndex.createDelta(unrelated[1], unrelated[1].length / 2));
rows.push(["hopeless candidate (4 MiB unrelated, bound size/2)", `${hopelessMs.toFixed(1)} ms, ${mibPerSecond(unrelated[1].length / 2, hopelessMs)} scanned`]);

const width = Math.max(...rows.map(([name]) => name.length));
for (const [name, value] of rows) console.log(`${name.padEnd(width)}  ${value}`);
