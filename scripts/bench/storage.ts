/**
 * Storage benchmark: `bun run scripts/bench/storage.ts [options]`.
 *
 * stategit on `gs://` (the GCS emulator of test/support, in a child process, adding 20 ms to every
 * call and enforcing GCS's one write per second per object name) and the database (PostgreSQL
 * when DATABASE_URL is set, else SQLite), with the benchmarks' memory repository (200 Markdown
 * files, 2,000 commits). In one run it measures and prints:
 *   - cold load (the first `git ls-remote` through a fresh instance) and first clone through a
 *     fresh instance, beside the previous service's way: downloading every file of the same
 *     repository's `.git` directory (16 reads at a time, as `stategit import` reads them), once as
 *     written commit by commit (loose objects) and once after `git gc` (one pack), then cloning it;
 *   - up-to-date fetches per second through one instance, 1 and 16 clients, beside C git's
 *     `git http-backend` on local disk (the requests recorded from `git fetch`, as serve.ts does);
 *   - 20 successive pushes to one repository: total time, and the 429s the emulator answered.
 * Setup (loading the repository, uploading the `.git` files) runs without the added latency.
 *
 * Options: --duration SECONDS (5) per fetch measurement, --runs N (3) cold measurements each
 * (median; the loose `.git` files, most of a minute each, are read once), --cgi-bridge (skip lighttpd), --timeout MINUTES (15, then everything is stopped).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import type { BlobStore } from "../../src/storage/blob-store.ts";
import { GcsBlobStore } from "../../src/storage/gcs.ts";
import { spawnGcsEmulator, type GcsEmulatorProcess } from "../../test/support/gcs-emulator.ts";
import { MEMORY_SHAPE, memoryRepository, type RepositoryFacts } from "./fixtures.ts";
import { fixed, gitRunner, isolatedGitEnv, runBenchmark, table } from "./harness.ts";
import { expectedAnswers, measureFetches, recordUpToDateFetch, type LoadResult } from "./load.ts";
import { AGENT, Children, startGitPeer, startStategitPeer, stopOnSignalOrTimeout, type Peer } from "./peers.ts";

const BUCKET = "bench";
const LATENCY_MS = 20;
const GCS_OBJECT_WRITE_INTERVAL_MS = 1000;
const CONCURRENCY = [1, 16];
const WARMUP_MS = 1000;
const FETCH_TARGET = 5;
const SUCCESSIVE_PUSHES = 20;
/** `stategit import` reads the previous service's files 16 at a time. */
const DOWNLOAD_CONCURRENCY = 16;
const UPLOAD_CONCURRENCY = 32;

const { values: options } = parseArgs({
  options: {
    duration: { type: "string", default: "5" },
    runs: { type: "string", default: "3" },
    "cgi-bridge": { type: "boolean", default: false },
    timeout: { type: "string", default: "15" },
  },
});
const durationMs = Number(options.duration) * 1000;
const runs = Number(options.runs);
if (!(durationMs > 0) || !(runs >= 1)) throw new Error("--duration and --runs take positive numbers");

const started = performance.now();
const say = (line: string) => process.stderr.write(`[storage-bench ${((performance.now() - started) / 1000).toFixed(1)} s] ${line}\n`);
const tmp = mkdtempSync(join(process.env.TMPDIR ?? "/tmp", "stategit-storage-bench-"));
const children = new Children(tmp);
const gitEnv = isolatedGitEnv(tmp);
const git = gitRunner(gitEnv, tmp);
let emulator: GcsEmulatorProcess | undefined;
let dropSchema: (() => Promise<void>) | undefined;

async function cleanUp(): Promise<void> {
  await children.stopAll();
  await emulator?.stop();
  await dropSchema?.();
  rmSync(tmp, { recursive: true, force: true });
}

stopOnSignalOrTimeout(children, Number(options.timeout), say, () => {
  void emulator?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** The database URL: a fresh PostgreSQL schema when DATABASE_URL is set (dropped at the end), else SQLite in tmp. */
async function benchDatabase(): Promise<{ url: string; name: string }> {
  const base = process.env.DATABASE_URL;
  if (!base) return { url: `sqlite:${join(tmp, "db.sqlite")}`, name: "SQLite" };
  const schema = `stategit_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  dropSchema = async () => {
    await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  };
  const url = new URL(base);
  url.searchParams.set("search_path", schema);
  return { url: url.toString(), name: "PostgreSQL" };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timed(body: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await body();
  return performance.now() - start;
}

/** Runs `work` over `items`, `concurrency` at a time. */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((path) => statSync(join(dir, path)).isFile());
}

/** The repository as a service writing one commit at a time leaves it: every object loose. */
async function looseCopy(facts: RepositoryFacts): Promise<string> {
  const loose = join(tmp, "loose.git");
  await git(["clone", "-q", "--bare", "--no-local", facts.path, loose]);
  const packDir = join(loose, "objects/pack");
  const pack = readdirSync(packDir).find((name) => name.endsWith(".pack"))!;
  const packBytes = await Bun.file(join(packDir, pack)).bytes();
  for (const name of readdirSync(packDir)) rmSync(join(packDir, name));
  const unpack = Bun.spawn(["git", "unpack-objects", "-q"], { cwd: loose, env: gitEnv, stdin: packBytes, stdout: "ignore", stderr: "pipe" });
  if ((await unpack.exited) !== 0) throw new Error(`git unpack-objects failed: ${await new Response(unpack.stderr).text()}`);
  return loose;
}

interface PreviousLayout {
  name: string;
  /** The store's prefix in the bucket (`gs://bench/{store}`). */
  store: string;
  /** `bench/{AGENT}/repo.git/`: the repository's files under the store's prefix. */
  prefix: string;
  files: number;
  /** Cold measurements to take the median of: one when each takes most of a minute. */
  runs: number;
}

/** Uploads the files of the `.git` directory `dir` under `{prefix}/bench/{AGENT}/repo.git/` (the previous service's layout), straight to the emulator. */
async function uploadGitDir(emulatorUrl: string, dir: string, name: string, prefix: string, layoutRuns: number): Promise<PreviousLayout> {
  const files = filesUnder(dir);
  await pool(files, UPLOAD_CONCURRENCY, async (path) => {
    const objectName = encodeURIComponent(`${prefix}/bench/${AGENT}/repo.git/${path}`);
    const response = await fetch(`${emulatorUrl}/upload/storage/v1/b/${BUCKET}/o?uploadType=media&name=${objectName}`, { method: "POST", body: Bun.file(join(dir, path)) });
    if (!response.ok) throw new Error(`upload of ${path}: ${response.status} ${await response.text()}`);
  });
  return { name, store: prefix, prefix: `bench/${AGENT}/repo.git/`, files: files.length, runs: layoutRuns };
}

/** The previous service's cold load, as `stategit import` reads it: list and read every file (16 at a time), here into a fresh directory. */
async function downloadGitDir(store: BlobStore, layout: PreviousLayout, into: string): Promise<void> {
  const listed = await store.list(layout.prefix);
  if (listed.length !== layout.files) throw new Error(`${layout.name}: listed ${listed.length} files, uploaded ${layout.files}`);
  await pool(listed, DOWNLOAD_CONCURRENCY, async ({ key }) => {
    const data = await store.get(key);
    if (!data) throw new Error(`${key} vanished`);
    const path = join(into, key.slice(layout.prefix.length));
    mkdirSync(dirname(path), { recursive: true });
    await Bun.write(path, data);
  });
  // git recognises a repository by its refs/ directory, which holds no file when every ref is packed.
  mkdirSync(join(into, "refs"), { recursive: true });
}

/** Clones `url` into a fresh directory, checks HEAD, removes it. */
async function cloneChecked(url: string, facts: RepositoryFacts, extra: string[] = []): Promise<void> {
  const dir = mkdtempSync(join(tmp, "clone-"));
  try {
    await git(["-c", "protocol.version=2", "clone", "-q", ...extra, url, join(dir, "c")]);
    const head = (await git(["rev-parse", "HEAD"], join(dir, "c"))).trim();
    if (head !== facts.head) throw new Error(`clone of ${url}: HEAD is ${head}, expected ${facts.head}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ColdTimes {
  loadMs: number;
  cloneMs: number;
}

/** Medians over `runs` fresh instances each: the first ls-remote, and the first clone. */
async function stategitCold(data: string[], facts: RepositoryFacts): Promise<ColdTimes> {
  const loads: number[] = [];
  const clones: number[] = [];
  for (let run = 0; run < runs; run++) {
    for (const [kind, times] of [["load", loads], ["clone", clones]] as const) {
      const peer = await startStategitPeer(children, { tmp, binary: false, data, logName: `stategit-cold-${kind}-${run}` });
      times.push(await timed(() => (kind === "load" ? git(["-c", "protocol.version=2", "ls-remote", peer.gitUrl]) : cloneChecked(peer.gitUrl, facts))));
      await children.stop(peer.process);
    }
  }
  return { loadMs: median(loads), cloneMs: median(clones) };
}

/** Medians over the layout's runs: downloading every file, and that plus cloning from the copy. */
async function previousCold(layout: PreviousLayout, facts: RepositoryFacts): Promise<ColdTimes> {
  const loads: number[] = [];
  const clones: number[] = [];
  for (let run = 0; run < layout.runs; run++) {
    const into = mkdtempSync(join(tmp, "download-"));
    const loadMs = await timed(() => downloadGitDir(new GcsBlobStore({ bucket: BUCKET, prefix: layout.store }), layout, into));
    loads.push(loadMs);
    clones.push(loadMs + (await timed(() => cloneChecked(into, facts, ["--no-local"]))));
    rmSync(into, { recursive: true, force: true });
  }
  return { loadMs: median(loads), cloneMs: median(clones) };
}

/** 20 pushes of one commit each, one after the other, through `peer`; the storage calls and 429s over them. */
async function successivePushes(peer: Peer, emulatorProcess: GcsEmulatorProcess): Promise<{ totalMs: number; calls: number; rateLimited: number }> {
  const work = join(tmp, "pusher");
  await git(["clone", "-q", peer.gitUrl, work]);
  const before = await emulatorProcess.stats();
  let totalMs = 0;
  for (let i = 0; i < SUCCESSIVE_PUSHES; i++) {
    await Bun.write(join(work, "dir0/successive.md"), `push ${i}\n`);
    await git(["add", "-A"], work);
    await git(["-c", "user.name=Bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", `push ${i}`], work);
    totalMs += await timed(() => git(["push", "-q", "origin", "HEAD:main"], work));
  }
  const after = await emulatorProcess.stats();
  return { totalMs, calls: after.requests - before.requests, rateLimited: after.rateLimited - before.rateLimited };
}

async function fetchRates(peers: Peer[], facts: RepositoryFacts): Promise<{ concurrency: number; results: LoadResult[] }[]> {
  const fetcher = join(tmp, "fetcher");
  await git(["clone", "-q", "--no-checkout", facts.path, fetcher]);
  const exchange = await recordUpToDateFetch(peers[0], fetcher, gitEnv);
  const subjects = await Promise.all(peers.map(async (peer) => ({ peer, expected: await expectedAnswers(peer, exchange, facts.refs) })));
  const rows: { concurrency: number; results: LoadResult[] }[] = [];
  for (const concurrency of CONCURRENCY) rows.push({ concurrency, results: await measureFetches(subjects, exchange, concurrency, { warmupMs: WARMUP_MS, durationMs, say }) });
  return rows;
}

async function main(): Promise<number> {
  say(`temporary directory ${tmp}`);
  const facts = await memoryRepository(git);
  say(`repository ${facts.path}: ${facts.objects} objects, ${fixed(facts.packBytes / 1024)} KiB packed`);
  emulator = await spawnGcsEmulator({ buckets: [BUCKET] });
  await emulator.setFaults({ objectWriteIntervalMs: GCS_OBJECT_WRITE_INTERVAL_MS });
  process.env.STORAGE_EMULATOR_HOST = emulator.url;
  const database = await benchDatabase();
  const data = ["--storage", `gs://${BUCKET}/stategit`, "--database", database.url];
  say(`emulator at ${emulator.url}; database ${database.name}`);

  const loader = await startStategitPeer(children, { tmp, binary: false, data, logName: "stategit-loader" });
  const loadMs = await timed(() => git(["-c", "protocol.version=2", "push", "-q", loader.gitUrl, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], facts.path));
  await children.stop(loader.process);
  say(`stategit loaded by git push in ${fixed(loadMs)} ms`);
  const layouts = [
    await uploadGitDir(emulator.url, await looseCopy(facts), ".git files, loose (as written commit by commit)", "previous-loose", 1),
    await uploadGitDir(emulator.url, facts.path, ".git files, packed (after git gc)", "previous-packed", runs),
  ];
  say(`uploaded the previous service's layouts: ${layouts.map((layout) => `${layout.files} files`).join(", ")}`);

  await emulator.setFaults({ latencyMs: LATENCY_MS });
  say(`cold loads and first clones, ${runs} runs each, ${LATENCY_MS} ms per storage call`);
  const cold = [{ name: `stategit (gs:// + ${database.name})`, runs, times: await stategitCold(data, facts) }];
  for (const layout of layouts) cold.push({ name: `previous: ${layout.name}, ${fixed(layout.files)} files`, runs: layout.runs, times: await previousCold(layout, facts) });

  const gitPeer = await startGitPeer(children, { repository: facts.path, tmp, forceBridge: options["cgi-bridge"], say });
  const stategit = await startStategitPeer(children, { tmp, binary: false, data, logName: "stategit" });
  stategit.name = `stategit (gs:// + ${database.name})`;
  const fetches = await fetchRates([gitPeer, stategit], facts);
  const pushes = await successivePushes(stategit, emulator);
  const stats = await emulator.stats();

  const coldRows = [["cold (ms, median)", "runs", "cold load", "first clone"]];
  for (const { name, runs: taken, times } of cold) coldRows.push([name, String(taken), fixed(times.loadMs), fixed(times.cloneMs)]);
  const fetchRows = [["up-to-date fetches/s", gitPeer.name, stategit.name, "stategit/git", "target", ""]];
  for (const { concurrency, results } of fetches) {
    const [theirs, ours] = results.map((result) => result.perSecond);
    fetchRows.push([`${concurrency} client${concurrency > 1 ? "s" : ""}`, fixed(theirs), fixed(ours), `${(ours / theirs).toFixed(2)}×`, `≥${FETCH_TARGET}×`, ours >= FETCH_TARGET * theirs ? "met" : "MISSED"]);
  }
  const pushRows = [
    [`${SUCCESSIVE_PUSHES} successive pushes, one repository`, "total (ms)", "per push (ms)", "storage calls", "429s seen"],
    [stategit.name, fixed(pushes.totalMs), fixed(pushes.totalMs / SUCCESSIVE_PUSHES), String(pushes.calls), String(pushes.rateLimited)],
  ];
  const failures = fetches.flatMap(({ concurrency, results }) =>
    results.flatMap((result, i) => [...result.failures].map(([what, count]) => `${[gitPeer, stategit][i].name}, ${concurrency} client(s): ${what} × ${count}`)),
  );
  const out = [
    `stategit storage benchmark (git ${(await git(["version"])).trim().replace("git version ", "")}, bun ${Bun.version}, bun run src/cli.ts)`,
    `repository: ${MEMORY_SHAPE.files} Markdown files × ${MEMORY_SHAPE.commits} commits: ${facts.objects} objects, ${fixed(facts.packBytes / 1024)} KiB packed by git`,
    `GCS emulator (child process): ${LATENCY_MS} ms added to every call during the measurements, one write per second per object name; database ${database.name}`,
    `load average at the end ${(await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ")} (the machine is shared; nothing pinned)`,
    `stategit loaded by one git push in ${fixed(loadMs)} ms (no added latency)`,
    "",
    table(coldRows),
    `  stategit: a fresh instance each time; previous: list + download every file, ${DOWNLOAD_CONCURRENCY} at a time, then git clone --no-local of the copy`,
    "",
    table(fetchRows),
    "",
    table(pushRows),
    "",
    `storage calls in all: ${fixed(stats.requests)}, 429s ${stats.rateLimited}, other failures ${stats.failed}`,
    `failures: ${failures.length === 0 ? "none" : ""}`,
    ...failures.map((line) => `  ${line}`),
  ];
  process.stdout.write(`${out.join("\n")}\n`);
  return failures.length === 0 && pushes.rateLimited === 0 ? 0 : 1;
}

await runBenchmark(main, cleanUp, say);
