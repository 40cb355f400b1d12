/**
 * Memory with many agents: `bun run scripts/bench/agents.ts [--agents N] [--writes K] [--cache-mib M]`.
 *
 * One `stategit serve` (file storage, SQLite, `--cache-bytes` M MiB) and 16 clients that touch N
 * agents one after the other: K block writes through the JSON API (each a commit and a pack),
 * then what an agent's start does — the upload-pack advertisement and a read of its blocks. Every
 * N/20 agents it samples the server's resident memory (/proc/PID/status) and the memory its cache
 * of loaded repositories reports (GET /metrics), and prints the curve: RSS must level off at
 * the cache budget plus a fixed overhead, however many repositories were touched.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fixed, table } from "./harness.ts";
import { Children, startStategitPeer, stopOnSignalOrTimeout } from "./peers.ts";

const CLIENTS = 16;
const SAMPLES = 20;
const MIB = 1024 * 1024;

const { values: options } = parseArgs({
  options: {
    agents: { type: "string", default: "10000" },
    writes: { type: "string", default: "3" },
    "cache-mib": { type: "string", default: "64" },
    binary: { type: "boolean", default: false },
    timeout: { type: "string", default: "60" },
  },
});
const agents = Number(options.agents);
const writes = Number(options.writes);
const cacheMiB = Number(options["cache-mib"]);
if (!(agents >= SAMPLES) || !(writes >= 1) || !(cacheMiB >= 1)) throw new Error(`--agents (at least ${SAMPLES}), --writes and --cache-mib take positive numbers`);

const say = (line: string) => process.stderr.write(`[agents-bench] ${line}\n`);
const tmp = mkdtempSync(join(tmpdir(), "stategit-agents-bench-"));
const children = new Children(tmp);
stopOnSignalOrTimeout(children, Number(options.timeout), say, () => rmSync(tmp, { recursive: true, force: true }));

process.env.STATEGIT_CACHE_BYTES = String(cacheMiB * MIB);
process.env.STATEGIT_LOG_LEVEL = "warn";
const peer = await startStategitPeer(children, { tmp, binary: options.binary });
const origin = new URL(peer.repoUrl).origin;

/** Resident memory of the server process, from the kernel. */
function residentBytes(): number {
  const status = readFileSync(`/proc/${peer.process.pid}/status`, "utf8");
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!kib) throw new Error("no VmRSS in /proc/PID/status");
  return Number(kib[1]) * 1024;
}

async function cachedBytes(): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const line = /^stategit_repository_cache_bytes (\S+)$/m.exec(text);
  return line ? Number(line[1]) : 0;
}

async function expectOk(response: Response, what: string): Promise<void> {
  const body = await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`${what}: HTTP ${response.status} ${new TextDecoder().decode(body).slice(0, 200)}`);
}

/** An agent's turn: K block writes (K commits, K packs), then the advertisement and a read of its blocks. */
async function touch(index: number): Promise<void> {
  const agent = `agent-${String(index).padStart(6, "0")}`;
  for (let round = 0; round < writes; round++) {
    const value = `Agent ${index} remembers round ${round}.\n${"Some memory of this agent. ".repeat(20)}\n`;
    const response = await fetch(`${origin}/v1/agents/${agent}/blocks/notes-${round % 2}`, {
      method: "PUT",
      headers: { ...peer.headers, "Content-Type": "application/json" },
      body: JSON.stringify({ value, description: `notes ${round % 2}` }),
    });
    await expectOk(response, `PUT block of ${agent}`);
  }
  await expectOk(await fetch(`${origin}/v1/git/${agent}/state.git/info/refs?service=git-upload-pack`, { headers: peer.headers }), `advertisement of ${agent}`);
  await expectOk(await fetch(`${origin}/v1/agents/${agent}/blocks`, { headers: peer.headers }), `blocks of ${agent}`);
}

const idle = residentBytes();
const rows = [["agents touched", "RSS (MiB)", "cache (MiB)", "RSS - cache (MiB)", "agents/s"]];
const sample = async (touched: number, started: number) => {
  const rss = residentBytes();
  const cache = await cachedBytes();
  rows.push([fixed(touched), fixed(rss / MIB, 1), fixed(cache / MIB, 1), fixed((rss - cache) / MIB, 1), fixed(touched / ((performance.now() - started) / 1000), 1)]);
  say(rows.at(-1)!.join("  "));
};

const started = performance.now();
let next = 0;
let touched = 0;
let nextSample = agents / SAMPLES;
await Promise.all(
  Array.from({ length: CLIENTS }, async () => {
    while (next < agents) {
      await touch(next++);
      touched++;
      if (touched >= nextSample) {
        nextSample += agents / SAMPLES;
        await sample(touched, started);
      }
    }
  }),
);
const peak = Math.max(...rows.slice(1).map((row) => Number(row[1].replaceAll(",", ""))));
console.log(table(rows));
console.log(
  `\n${fixed(agents)} agents x ${writes} writes, --cache-bytes ${cacheMiB} MiB: RSS ${fixed(idle / MIB, 1)} MiB at start, ` +
    `peak ${fixed(peak, 1)} MiB, so ${fixed(peak - cacheMiB, 1)} MiB beyond the cache budget; ${fixed((performance.now() - started) / 1000, 0)} s`,
);
await children.stopAll();
rmSync(tmp, { recursive: true, force: true });
process.exit(0);
