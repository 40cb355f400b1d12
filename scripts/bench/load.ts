/**
 * The serve benchmark's load: what `git fetch` sends over smart HTTP when nothing is new
 * (recorded once from the real client, with protocol v2 or v0), replayed by concurrent keep-alive
 * clients, with every answer checked.
 */
import { readFileSync } from "node:fs";
import { ADVERTISEMENT_TYPE, RESULT_TYPE } from "./bridge.ts";
import type { Peer } from "./peers.ts";

/** One HTTP request as git sent it, its path relative to the repository URL. */
export interface RecordedRequest {
  method: string;
  /** e.g. `info/refs?service=git-upload-pack` or `git-upload-pack`. */
  path: string;
  headers: [string, string][];
  body: Uint8Array;
}

/**
 * The requests of an up-to-date fetch: with protocol v2 the capability advertisement, then
 * `ls-refs` (gitprotocol-v2); with v0 the ref advertisement alone, after which the client, having
 * every tip, sends nothing (gitprotocol-http, "Smart Clients").
 */
export interface UpToDateFetch {
  version: 0 | 2;
  advertisement: RecordedRequest;
  /** v2 only. */
  lsRefs?: RecordedRequest;
}

/** The answers every replay must reproduce byte for byte (after the first one was checked). */
export interface ExpectedAnswers {
  advertisement: Uint8Array;
  /** v2 only. */
  lsRefs?: Uint8Array;
}

// Headers the HTTP layer sets itself for each request; replaying them would be wrong.
const HOP_HEADERS = new Set(["host", "content-length", "connection", "transfer-encoding"]);

/**
 * Runs `git fetch` (protocol `version`) in `clone`, whose `origin` is up to date with `peer`,
 * through a recording proxy, and returns the requests git sent. Fails unless they are exactly
 * those of an up-to-date fetch.
 */
export async function recordUpToDateFetch(peer: Peer, clone: string, gitEnv: Record<string, string>, version: 0 | 2 = 2): Promise<UpToDateFetch> {
  const recorded: RecordedRequest[] = [];
  const target = new URL(peer.repoUrl);
  const proxy = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const body = new Uint8Array(await request.arrayBuffer());
      recorded.push({
        method: request.method,
        path: `${url.pathname.slice(target.pathname.length + 1)}${url.search}`,
        headers: [...request.headers].filter(([name]) => !HOP_HEADERS.has(name)),
        body,
      });
      const forwarded = await fetch(`${target.origin}${url.pathname}${url.search}`, {
        method: request.method,
        headers: [...request.headers].filter(([name]) => !HOP_HEADERS.has(name)),
        body: request.method === "GET" ? undefined : body,
      });
      const headers = [...forwarded.headers].filter(([name]) => !HOP_HEADERS.has(name) && name !== "content-encoding");
      return new Response(await forwarded.arrayBuffer(), { status: forwarded.status, headers });
    },
  });
  try {
    const proxied = `http://127.0.0.1:${proxy.port}${target.pathname}`;
    const git = (args: string[]) => Bun.spawn(["git", ...args], { cwd: clone, env: gitEnv, stdout: "pipe", stderr: "pipe", timeout: 60_000 });
    await git(["remote", "set-url", "origin", proxied]).exited;
    const fetchProcess = git(["-c", `protocol.version=${version}`, "fetch", "origin"]);
    const [status, stderr] = await Promise.all([fetchProcess.exited, new Response(fetchProcess.stderr).text()]);
    if (status !== 0) throw new Error(`git fetch through the recording proxy failed: ${stderr}`);
  } finally {
    proxy.stop(true);
  }
  const summary = recorded.map((request) => `${request.method} ${request.path}`).join(", ");
  const [advertisement, lsRefs] = recorded;
  if (version === 0) {
    if (recorded.length !== 1 || advertisement.method !== "GET") throw new Error(`expected git fetch (v0) to send GET info/refs only, got: ${summary}`);
    return { version, advertisement };
  }
  if (recorded.length !== 2 || advertisement.method !== "GET" || lsRefs.method !== "POST" || !pktText(lsRefs.body).includes("command=ls-refs")) {
    throw new Error(`expected git fetch to send GET info/refs and POST ls-refs only, got: ${summary}`);
  }
  if (!advertisement.headers.some(([name, value]) => name === "git-protocol" && value === "version=2")) {
    throw new Error("git fetch did not ask for protocol v2 (Git-Protocol: version=2)");
  }
  return { version, advertisement, lsRefs };
}

/** The payloads of a pkt-line stream, `0000`/`0001` as markers (gitprotocol-common, "pkt-line Format"). */
export function pktLines(bytes: Uint8Array): string[] {
  const text = new TextDecoder().decode(bytes);
  const lines: string[] = [];
  let at = 0;
  while (at + 4 <= text.length) {
    const length = Number.parseInt(text.slice(at, at + 4), 16);
    if (!Number.isInteger(length) || (length > 2 && length < 4)) throw new Error(`bad pkt-line length at ${at}: ${JSON.stringify(text.slice(at, at + 4))}`);
    if (length <= 2) {
      lines.push(text.slice(at, at + 4));
      at += 4;
      continue;
    }
    lines.push(text.slice(at + 4, at + length).replace(/\n$/, ""));
    at += length;
  }
  if (at !== text.length) throw new Error("pkt-line stream ends inside a packet");
  return lines;
}

function pktText(bytes: Uint8Array): string {
  return pktLines(bytes).join("\n");
}

/**
 * Checks one peer's answers to the recorded fetch against the repository's refs (lines as
 * ls-refs writes them, HEAD first) and returns them.
 */
export async function expectedAnswers(peer: Peer, exchange: UpToDateFetch, refs: string[]): Promise<ExpectedAnswers> {
  const advertisement = await send(peer, exchange.advertisement);
  const lsRefs = exchange.lsRefs && (await send(peer, exchange.lsRefs));
  const problems = exchange.lsRefs && lsRefs ? checkV2(advertisement, exchange.lsRefs, lsRefs, refs) : checkV0(advertisement, refs);
  if (problems.length > 0) throw new Error(`${peer.name}: wrong answer to the up-to-date fetch (v${exchange.version}):\n  ${problems.join("\n  ")}`);
  return { advertisement: advertisement.body, lsRefs: lsRefs?.body };
}

/**
 * A v2 advertisement offering ls-refs and fetch, and from ls-refs exactly those of `refs` that the
 * request's `ref-prefix` arguments select (gitprotocol-v2, "ls-refs").
 */
function checkV2(advertisement: Answer, request: RecordedRequest, lsRefs: Answer, refs: string[]): string[] {
  const prefixes = pktLines(request.body)
    .filter((line) => line.startsWith("ref-prefix "))
    .map((line) => line.slice("ref-prefix ".length));
  const expectedRefs = refs.filter((line) => prefixes.length === 0 || prefixes.some((prefix) => line.split(" ")[1].startsWith(prefix)));
  const problems = [checkHead(advertisement, ADVERTISEMENT_TYPE), checkHead(lsRefs, RESULT_TYPE)].filter((problem) => problem !== undefined);
  const capabilities = pktLines(advertisement.body);
  if (capabilities[0] !== "version 2" || capabilities.at(-1) !== "0000") problems.push(`advertisement is not a v2 capability list: ${JSON.stringify(capabilities)}`);
  for (const command of ["ls-refs", "fetch"]) {
    if (!capabilities.some((line) => line === command || line.startsWith(`${command}=`))) problems.push(`advertisement lacks ${command}`);
  }
  const listed = pktLines(lsRefs.body);
  if (JSON.stringify(listed) !== JSON.stringify([...expectedRefs, "0000"])) problems.push(`ls-refs answered ${JSON.stringify(listed)}, expected ${JSON.stringify([...expectedRefs, "0000"])}`);
  return problems;
}

/**
 * A v0 ref advertisement: the service line, a flush, every ref of `refs` with a tag's peeled
 * target as `NAME^{}` after it, capabilities after the first (gitprotocol-http, "Smart Server
 * Response"; gitprotocol-pack, "Reference Discovery").
 */
function checkV0(advertisement: Answer, refs: string[]): string[] {
  const problem = checkHead(advertisement, ADVERTISEMENT_TYPE);
  if (problem) return [problem];
  const expected = refs.flatMap((line) => {
    const [id, name, ...attributes] = line.split(" ");
    const peeled = attributes.find((attribute) => attribute.startsWith("peeled:"))?.slice("peeled:".length);
    return peeled ? [`${id} ${name}`, `${peeled} ${name}^{}`] : [`${id} ${name}`];
  });
  const listed = pktLines(advertisement.body).map((line) => line.split("\0")[0]);
  const wanted = ["# service=git-upload-pack", "0000", ...expected, "0000"];
  return JSON.stringify(listed) === JSON.stringify(wanted) ? [] : [`advertisement listed ${JSON.stringify(listed)}, expected ${JSON.stringify(wanted)}`];
}

interface Answer {
  status: number;
  contentType: string | null;
  body: Uint8Array;
}

async function send(peer: Peer, request: RecordedRequest): Promise<Answer> {
  const response = await fetch(`${peer.repoUrl}/${request.path}`, {
    method: request.method,
    headers: [...request.headers, ...Object.entries(peer.headers)],
    body: request.method === "GET" ? undefined : request.body,
  });
  return { status: response.status, contentType: response.headers.get("content-type"), body: new Uint8Array(await response.arrayBuffer()) };
}

function checkHead(answer: Answer, contentType: string): string | undefined {
  if (answer.status !== 200) return `status ${answer.status}: ${new TextDecoder().decode(answer.body.subarray(0, 200)).trim()}`;
  if (answer.contentType !== contentType) return `content type ${answer.contentType}, expected ${contentType}`;
  return undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Seconds of CPU a process used, with the children it reaped (`/proc/PID/stat` fields 14-17, proc(5)). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields after the command name start at field 3 (state): utime is field 14, cstime 17.
  return fields.slice(11, 15).reduce((sum, field) => sum + Number(field), 0) / CLOCK_TICKS;
}

const CLOCK_TICKS = Number(new TextDecoder().decode(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout).trim()) || 100;

/** Busy and total jiffies per CPU (`cpuN` lines of /proc/stat). */
function cpuTimes(): { busy: number; total: number }[] {
  return readFileSync("/proc/stat", "utf8")
    .split("\n")
    .filter((line) => /^cpu\d+ /.test(line))
    .map((line) => {
      const values = line.split(/\s+/).slice(1).map(Number);
      const idle = values[3] + values[4];
      const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
      return { busy: total - idle, total };
    });
}

export interface LoadResult {
  fetches: number;
  /** Each checked fetch's time, both requests (ms), in the order they finished. */
  latenciesMs: number[];
  seconds: number;
  perSecond: number;
  failures: Map<string, number>;
  /** Share of one core used by this process (the load client) and by the server. */
  clientCores: number;
  serverCores: number;
  /** Busy share of each CPU of the machine over the run (everything on it, other work included). */
  machineBusy: number[];
}

/**
 * `concurrency` clients, each repeating the up-to-date fetch (GET advertisement, with v2 POST ls-refs)
 * over keep-alive connections for `durationMs`; every answer must be a 200 with the expected
 * content type and bytes.
 */
export async function upToDateFetchLoad(peer: Peer, exchange: UpToDateFetch, expected: ExpectedAnswers, concurrency: number, durationMs: number): Promise<LoadResult> {
  const failures = new Map<string, number>();
  const fail = (what: string) => failures.set(what, (failures.get(what) ?? 0) + 1);
  const check = async (request: RecordedRequest, url: string, headers: [string, string][], contentType: string, bytes: Uint8Array, what: string) => {
    try {
      const response = await fetch(url, { method: request.method, headers, body: request.method === "GET" ? undefined : request.body });
      const body = new Uint8Array(await response.arrayBuffer());
      if (response.status !== 200) fail(`${what}: status ${response.status} ${new TextDecoder().decode(body.subarray(0, 80)).trim()}`);
      else if (response.headers.get("content-type") !== contentType) fail(`${what}: content type ${response.headers.get("content-type")}`);
      else if (!sameBytes(body, bytes)) fail(`${what}: body differs (${body.length} bytes, expected ${bytes.length})`);
      else return true;
    } catch (error) {
      fail(`${what}: ${(error as Error).message}`);
    }
    return false;
  };
  const steps = [{ request: exchange.advertisement, contentType: ADVERTISEMENT_TYPE, bytes: expected.advertisement, what: "GET info/refs" }];
  if (exchange.lsRefs && expected.lsRefs) steps.push({ request: exchange.lsRefs, contentType: RESULT_TYPE, bytes: expected.lsRefs, what: "POST ls-refs" });
  const requests = steps.map((step) => ({ ...step, url: `${peer.repoUrl}/${step.request.path}`, headers: [...step.request.headers, ...Object.entries(peer.headers)] }));

  let fetches = 0;
  const latenciesMs: number[] = [];
  const client = { cpu: process.cpuUsage(), server: processCpuSeconds(peer.process.pid), machine: cpuTimes() };
  const start = performance.now();
  const end = start + durationMs;
  const loop = async () => {
    while (performance.now() < end) {
      let ok = true;
      const fetchStart = performance.now();
      for (const step of requests) ok = (await check(step.request, step.url, step.headers, step.contentType, step.bytes, step.what)) && ok;
      if (ok) {
        fetches++;
        latenciesMs.push(performance.now() - fetchStart);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(client.cpu);
  const machine = cpuTimes();
  return {
    fetches,
    latenciesMs,
    seconds,
    perSecond: fetches / seconds,
    failures,
    clientCores: (cpu.user + cpu.system) / 1e6 / seconds,
    serverCores: (processCpuSeconds(peer.process.pid) - client.server) / seconds,
    machineBusy: machine.map((now, cpuIndex) => (now.busy - client.machine[cpuIndex].busy) / Math.max(1, now.total - client.machine[cpuIndex].total)),
  };
}

export interface PeerUnderLoad {
  peer: Peer;
  expected: ExpectedAnswers;
}

/**
 * Rounds a measurement is cut into, the peers taking turns in each, so that a slow stretch of a
 * shared machine (seen here: the ceiling itself moving by a quarter between runs) falls on all
 * of them alike; a peer's rate is its median round's.
 */
const FETCH_ROUNDS = 5;

/**
 * Every peer under `concurrency` clients: a warm-up each, then `durationMs` each, in FETCH_ROUNDS
 * rounds taken in turn (the warm-up's failures count too).
 */
export async function measureFetches(
  subjects: readonly PeerUnderLoad[],
  exchange: UpToDateFetch,
  concurrency: number,
  run: { warmupMs: number; durationMs: number; say: (line: string) => void },
): Promise<LoadResult[]> {
  const warmups: LoadResult[] = [];
  for (const { peer, expected } of subjects) {
    run.say(`up-to-date fetches, ${concurrency} client(s): ${peer.name}, warm-up`);
    warmups.push(await upToDateFetchLoad(peer, exchange, expected, concurrency, run.warmupMs));
  }
  const rounds: LoadResult[][] = subjects.map(() => []);
  for (let round = 1; round <= FETCH_ROUNDS; round++) {
    run.say(`up-to-date fetches, ${concurrency} client(s): round ${round}/${FETCH_ROUNDS}, ${subjects.map(({ peer }) => peer.name).join(", ")}`);
    for (const [index, { peer, expected }] of subjects.entries()) {
      rounds[index].push(await upToDateFetchLoad(peer, exchange, expected, concurrency, run.durationMs / FETCH_ROUNDS));
    }
  }
  return rounds.map((measured, index) => {
    const result = combineRounds(measured);
    for (const [what, count] of warmups[index].failures) result.failures.set(`${what} (warm-up)`, count);
    return result;
  });
}

/** One result of a peer's rounds: counts and times added up, shares weighted by time, the rate the median round's. */
function combineRounds(rounds: readonly LoadResult[]): LoadResult {
  const seconds = rounds.reduce((sum, round) => sum + round.seconds, 0);
  const weighted = (share: (round: LoadResult) => number) => rounds.reduce((sum, round) => sum + share(round) * round.seconds, 0) / seconds;
  const failures = new Map<string, number>();
  for (const round of rounds) for (const [what, count] of round.failures) failures.set(what, (failures.get(what) ?? 0) + count);
  const rates = rounds.map((round) => round.perSecond).sort((a, b) => a - b);
  return {
    fetches: rounds.reduce((sum, round) => sum + round.fetches, 0),
    latenciesMs: rounds.flatMap((round) => round.latenciesMs),
    seconds,
    perSecond: rates[Math.floor(rates.length / 2)],
    failures,
    clientCores: weighted((round) => round.clientCores),
    serverCores: weighted((round) => round.serverCores),
    machineBusy: rounds[0].machineBusy.map((_, cpu) => weighted((round) => round.machineBusy[cpu])),
  };
}
