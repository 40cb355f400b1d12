/**
 * Memory benchmark: `bun run scripts/bench/blocks.ts [--agents N] [--skip-postgres]`.
 *
 * On SQLite (a temporary file) and on PostgreSQL (DATABASE_URL, default the local server; a fresh
 * schema), with the real server app in process (JSON API, git routes, repositories on a memory
 * store), measures:
 *   - API writes per second: PUTs of 20 blocks of one agent, one at a time and 16 at a time, and
 *     16 at a time across 100 agents (every answer must be 200);
 *   - push-to-mirror latency: a real `git push` of one block edit, then at once a read of the block
 *     through the API: the push answers after the mirror's transaction, so the lag must be 0;
 *   - search latency p50/p99 over 10,000 agents x 20 blocks (rows written straight into the mirror).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import type { MemoryFile } from "../../src/blocks/memory-file.ts";
import type { MemoryRulesConfig } from "../../src/blocks/push-check.ts";
import type { SqlAdapter } from "../../src/db/adapter.ts";
import { MemoryMirror } from "../../src/db/mirror.ts";
import { openDatabase } from "../../src/db/open.ts";
import { deploymentRepositories } from "../../src/db/repositories.ts";
import { SharedRepositories } from "../../src/db/shared-repositories.ts";
import { createApp } from "../../src/http/app.ts";
import { gitTargets } from "../../src/http/git-targets.ts";
import { createLogger } from "../../src/http/logger.ts";
import { MemoryApi } from "../../src/http/memory-api.ts";
import { Metrics } from "../../src/http/metrics.ts";
import { MemoryBlobStore } from "../../src/storage/memory.ts";

const { values: options } = parseArgs({
  options: {
    agents: { type: "string", default: "10000" },
    "skip-postgres": { type: "boolean", default: false },
  },
});

const ORG = "bench";
const KEY = "sg_00000000000000b1_bench";
const SEARCH_AGENTS = Number(options.agents);
const BLOCKS_PER_AGENT = 20;
const WORDS = ["alps", "tea", "hiking", "python", "rust", "garden", "piano", "chess", "sailing", "coffee", "poetry", "running", "cooking", "travel", "music", "books", "movies", "cycling", "yoga", "painting"];
const MEMORY: MemoryRulesConfig = { blockLayout: "letta", blockPolicy: "strict" };

interface Row {
  database: string;
  measure: string;
  value: string;
}

const rows: Row[] = [];
const record = (database: string, measure: string, value: string) => {
  rows.push({ database, measure, value });
  console.error(`${database}: ${measure}: ${value}`);
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const blockBody = (i: number, round: number) => ({ value: `Block ${i}, round ${round}: ${WORDS[(i + round) % WORDS.length]}\n`, description: `block ${i}` });

async function withServer<T>(db: SqlAdapter, fn: (origin: string, api: (method: string, path: string, body?: unknown) => Promise<Response>) => Promise<T>): Promise<T> {
  const repositories = deploymentRepositories(db, new MemoryBlobStore(), MEMORY.blockLayout, { compaction: false });
  const shared = new SharedRepositories(db);
  const app = createApp({
    accounts: { authenticate: async (key) => (key === KEY ? { org: ORG, admin: false } : undefined) },
    repositories: gitTargets({ repositories, shared, memory: MEMORY }),
    memoryApi: new MemoryApi({ repositories, shared, mirror: new MemoryMirror(db), memory: MEMORY }),
    trustOrgHeader: false,
    maxBodyBytes: 1 << 24,
    logger: createLogger("error"),
    metrics: new Metrics({ version: "bench", commit: "bench" }),
    readinessChecks: [],
  });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
  const origin = `http://127.0.0.1:${server.port}`;
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${origin}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, ...(body !== undefined && { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  try {
    return await fn(origin, api);
  } finally {
    server.stop(true);
  }
}

/** Runs `count` PUTs with at most `parallel` in flight; returns writes per second. */
async function putRate(api: (method: string, path: string, body?: unknown) => Promise<Response>, count: number, parallel: number, target: (i: number) => [string, number]): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++;
        const [agent, block] = target(i);
        const response = await api("PUT", `/v1/agents/${agent}/blocks/b${block}`, blockBody(block, i));
        if (response.status !== 200) throw new Error(`PUT answered ${response.status}: ${await response.text()}`);
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

async function apiWrites(database: string, db: SqlAdapter): Promise<void> {
  await withServer(db, async (_origin, api) => {
    record(database, "API writes/s, one agent, sequential", (await putRate(api, 200, 1, (i) => ["solo", i % BLOCKS_PER_AGENT])).toFixed(0));
    record(database, "API writes/s, one agent, 16 concurrent (different blocks)", (await putRate(api, 320, 16, (i) => ["busy", i % 16])).toFixed(0));
    record(database, "API writes/s, 100 agents, 16 concurrent", (await putRate(api, 800, 16, (i) => [`agent-${i % 100}`, i % BLOCKS_PER_AGENT])).toFixed(0));
  });
}

async function pushToMirror(database: string, db: SqlAdapter): Promise<void> {
  await withServer(db, async (origin, api) => {
    const dir = mkdtempSync(join(tmpdir(), "stategit-bench-blocks-"));
    try {
      const remote = `http://x:${KEY}@${origin.slice("http://".length)}/v1/git/pusher/state.git`;
      // Asynchronous: the server answering the push runs in this process.
      const git = async (...args: string[]) => {
        const child = Bun.spawn(["git", "-C", dir, ...args], { stdout: "ignore", stderr: "pipe" });
        if ((await child.exited) !== 0) throw new Error(`git ${args.join(" ")} failed: ${await new Response(child.stderr).text()}`);
      };
      await git("init", "-q", "-b", "main");
      await git("config", "user.email", "bench@example.com");
      await git("config", "user.name", "bench");
      const pushes = 20;
      let seen = 0;
      const times: number[] = [];
      for (let i = 0; i < pushes; i++) {
        const value = `Edit ${i} of the human block.\n`;
        writeFileSync(join(dir, "human.md"), `---\nname: Human\ndescription: the user\n---\n${value}`);
        writeFileSync(join(dir, "MEMORY.md"), "# Memory\n");
        await git("add", "-A");
        await git("commit", "-q", "-m", `edit ${i}`);
        const started = performance.now();
        await git("push", "-q", remote, "HEAD:main");
        times.push(performance.now() - started);
        const block = (await (await api("GET", "/v1/agents/pusher/blocks/human")).json()) as { value?: string };
        if (block.value === value) seen++;
      }
      times.sort((a, b) => a - b);
      record(database, "push-to-mirror lag (block read right after git push returns)", `0 in ${seen}/${pushes} pushes${seen === pushes ? "" : " (LAGGED)"}; push p50 ${percentile(times, 50).toFixed(0)} ms`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

async function search(database: string, db: SqlAdapter): Promise<void> {
  const mirror = new MemoryMirror(db);
  const started = performance.now();
  const commit = "c".repeat(40);
  for (let first = 0; first < SEARCH_AGENTS; first += 250) {
    await db.transaction(async (tx) => {
      for (let agent = first; agent < Math.min(SEARCH_AGENTS, first + 250); agent++) {
        const upserts: MemoryFile[] = Array.from({ length: BLOCKS_PER_AGENT }, (_, b) => ({
          path: `system/b${b}.md`,
          label: `b${b}`,
          kind: "block",
          value: `Agent ${agent} remembers ${WORDS[(agent * 7 + b) % WORDS.length]} and ${WORDS[(agent + b * 3) % WORDS.length]}; note ${agent}-${b}.`,
          description: `block ${b} about ${WORDS[b % WORDS.length]}`,
          blob: "b".repeat(40),
        }));
        await mirror.apply(tx, ORG, `agent-${agent}`, { upserts, deletes: [] }, commit, 1);
      }
    });
  }
  record(database, `search corpus: ${SEARCH_AGENTS} agents x ${BLOCKS_PER_AGENT} blocks written`, `${((performance.now() - started) / 1000).toFixed(1)} s`);
  for (const [label, queryOf, scope] of [
    ["one word, organisation-wide", (i: number) => WORDS[i % WORDS.length], undefined],
    ["two words, organisation-wide", (i: number) => `${WORDS[i % WORDS.length]} ${WORDS[(i * 3 + 1) % WORDS.length]}`, undefined],
    ["one word, one agent", (i: number) => WORDS[i % WORDS.length], (i: number) => [`agent-${(i * 37) % SEARCH_AGENTS}`]],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      const hits = await mirror.search(ORG, queryOf(i), { limit: 20, repos: scope?.(i) });
      times.push(performance.now() - t);
      if (scope === undefined && hits.length === 0) throw new Error(`no hit for ${queryOf(i)}`);
    }
    times.sort((a, b) => a - b);
    record(database, `search latency, ${label} (limit 20)`, `p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms`);
  }
}

async function benchmark(database: string, url: string): Promise<void> {
  for (const step of [apiWrites, pushToMirror, search]) {
    const db = await openDatabase(url);
    try {
      await step(database, db);
    } finally {
      await db.close();
    }
  }
}

const dir = mkdtempSync(join(tmpdir(), "stategit-bench-db-"));
try {
  await benchmark("SQLite", `sqlite:${join(dir, "bench.db")}`);
  if (!options["skip-postgres"]) {
    const base = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
    const schema = `stategit_bench_${process.pid}`;
    const admin = postgres(base, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE SCHEMA ${schema}`);
    try {
      const url = new URL(base);
      url.searchParams.set("search_path", schema);
      await benchmark("PostgreSQL", url.toString());
    } finally {
      await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log("| database | measure | value |\n| --- | --- | --- |");
for (const row of rows) console.log(`| ${row.database} | ${row.measure} | ${row.value} |`);
