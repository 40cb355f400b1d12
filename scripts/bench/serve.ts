/**
 * Smart-HTTP server benchmark: `bun run scripts/bench/serve.ts [options]`.
 *
 * Serves one generated repository (Markdown memory: 200 files, 2,000 commits) from C git's
 * `git http-backend` (CGI behind lighttpd, from apt) and from stategit (`serve` on file storage
 * and SQLite, loaded by `git push`), both on 127.0.0.1, and measures:
 *   - up-to-date fetches per second: the two requests `git fetch` sends with protocol v2 when
 *     nothing is new (recorded from the real client, then replayed by keep-alive clients), at 1 and
 *     16 concurrent clients; every answer must be a 200 with the expected bytes;
 *   - the median wall time of a full `git clone` (protocol v2).
 * With two or more cores, the load client (this process, and the git clients it starts) is pinned
 * to cpu 0 and each server to cpu 1, so both servers get the same single core.
 *
 * Options: --duration SECONDS (5) per measurement, --clones N (5), --binary (dist/stategit),
 * --cgi-bridge (skip lighttpd), --no-pin, --profile (write a CPU profile of the stategit server to
 * .bench/), --git-only (without stategit), --timeout MINUTES (20, then everything is stopped).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fixed, PEER_OPTIONS, planCores, setUpBenchmark, table } from "./harness.ts";
import { MEMORY_SHAPE as SHAPE, memoryRepository, type RepositoryFacts } from "./fixtures.ts";
import { expectedAnswers, measureFetches, recordUpToDateFetch, type LoadResult, type PeerUnderLoad } from "./load.ts";
import { startCannedPeer, startGitPeer, startStategitPeer, type Peer } from "./peers.ts";

const ROOT = resolve(import.meta.dir, "../..");
const CONCURRENCY = [1, 16];
const WARMUP_MS = 1000;
const FETCH_TARGET = 5;
const CLONE_TARGET = 1;

const { values: options } = parseArgs({
  options: {
    ...PEER_OPTIONS,
    duration: { type: "string", default: "5" },
    clones: { type: "string", default: "5" },
    "git-only": { type: "boolean", default: false },
  },
});
const durationMs = Number(options.duration) * 1000;
const cloneRuns = Number(options.clones);
if (!(durationMs > 0) || !(cloneRuns >= 1)) throw new Error("--duration and --clones take positive numbers");

const { say, tmp, children, gitEnv, git, finish } = setUpBenchmark("serve-bench", Number(options.timeout));

async function loadStategit(peer: Peer, repository: string): Promise<number> {
  const start = performance.now();
  await git(["-c", "protocol.version=2", "push", "-q", peer.gitUrl, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], repository);
  return performance.now() - start;
}

interface CloneResult {
  medianMs: number;
  packBytes: number;
}

/** Clones `peer`'s repository into a fresh directory, checks it, deletes it, and returns the wall time and pack size. */
async function cloneOnce(peer: Peer, facts: RepositoryFacts, index: number, thorough: boolean): Promise<{ ms: number; packBytes: number }> {
  const dir = join(tmp, `clone-${index}`);
  try {
    const start = performance.now();
    await git(["-c", "protocol.version=2", "clone", "-q", peer.gitUrl, dir]);
    const ms = performance.now() - start;
    const head = (await git(["rev-parse", "HEAD"], dir)).trim();
    if (head !== facts.head) throw new Error(`${peer.name}: clone's HEAD is ${head}, expected ${facts.head}`);
    const packDir = join(dir, ".git/objects/pack");
    const packBytes = readdirSync(packDir)
      .filter((name) => name.endsWith(".pack"))
      .reduce((sum, name) => sum + statSync(join(packDir, name)).size, 0);
    if (thorough) {
      await git(["fsck", "--strict", "--no-dangling"], dir);
      const objects = Number((await git(["count-objects", "-v"], dir)).match(/in-pack: (\d+)/)?.[1]);
      if (objects !== facts.objects) throw new Error(`${peer.name}: clone holds ${objects} objects, expected ${facts.objects}`);
    }
    return { ms, packBytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One untimed, fully checked clone per peer, then `cloneRuns` timed rounds alternating between the peers. */
async function measureClones(peers: Peer[], facts: RepositoryFacts): Promise<CloneResult[]> {
  const times = peers.map(() => [] as number[]);
  const packBytes = peers.map(() => 0);
  for (const [i, peer] of peers.entries()) packBytes[i] = (await cloneOnce(peer, facts, i, true)).packBytes;
  for (let round = 0; round < cloneRuns; round++) {
    for (const [i, peer] of peers.entries()) times[i].push((await cloneOnce(peer, facts, i, false)).ms);
  }
  return times.map((list, i) => {
    list.sort((a, b) => a - b);
    return { medianMs: list[Math.floor(list.length / 2)], packBytes: packBytes[i] };
  });
}

const percent = (share: number) => `${Math.round(share * 100)}%`;

async function main(): Promise<number> {
  const cores = planCores(options["no-pin"]);
  say(`temporary directory ${tmp}`);
  const repoStart = performance.now();
  const facts = await memoryRepository(git);
  say(`repository ${facts.path}: ${facts.objects} objects, ${fixed(facts.packBytes / 1024)} KiB packed (${fixed(performance.now() - repoStart)} ms)`);

  const gitPeer = await startGitPeer(children, { repository: facts.path, tmp, cpu: cores.server, forceBridge: options["cgi-bridge"], say });
  say(`started ${gitPeer.name} at ${gitPeer.repoUrl}`);
  const peers = [gitPeer];
  let pushMs: number | undefined;
  const profileDir = options.profile ? mkdtempSync(join(ROOT, ".bench", "profile-")) : undefined;
  if (!options["git-only"]) {
    const stategit = await startStategitPeer(children, { tmp, cpu: cores.server, binary: options.binary, profileDir });
    say(`started stategit at ${stategit.repoUrl}; loading the repository by git push`);
    pushMs = await loadStategit(stategit, facts.path);
    peers.push(stategit);
  }

  const fetcher = join(tmp, "fetcher");
  await git(["clone", "-q", "--no-checkout", facts.path, fetcher]);
  const exchange = await recordUpToDateFetch(gitPeer, fetcher, gitEnv);
  say(`recorded git fetch: GET ${exchange.advertisement.path}, POST ${exchange.lsRefs?.path} (${JSON.stringify(new TextDecoder().decode(exchange.lsRefs?.body))})`);
  const subjects: PeerUnderLoad[] = [];
  for (const peer of peers) subjects.push({ peer, expected: await expectedAnswers(peer, exchange, facts.refs) });
  const canned = await startCannedPeer(children, subjects[0].expected, tmp, cores.server);
  const calibration = { peer: canned, expected: subjects[0].expected };

  // Servers run one at a time: only the one under load has work, the others idle.
  const fetchRows: { concurrency: number; results: LoadResult[]; ceiling: LoadResult }[] = [];
  for (const concurrency of CONCURRENCY) {
    const [ceiling] = await measureFetches([calibration], exchange, concurrency, { warmupMs: WARMUP_MS, durationMs, say });
    fetchRows.push({ concurrency, results: await measureFetches(subjects, exchange, concurrency, { warmupMs: WARMUP_MS, durationMs, say }), ceiling });
  }
  await children.stop(canned.process);

  say(`clones: 1 checked (fsck --strict) + ${cloneRuns} timed per server`);
  const clones = await measureClones(peers, facts);
  if (profileDir && peers.length > 1) {
    await children.stop(peers[1].process, 60_000);
    say(`CPU profile of the stategit server (push, fetches and clones): ${profileDir}`);
  }

  const stategitIndex = peers.length - 1;
  const ratio = (ours: number, theirs: number) => (peers.length > 1 ? `${(ours / theirs).toFixed(2)}×` : "-");
  const verdict = (ok: boolean) => (peers.length > 1 ? (ok ? "met" : "MISSED") : "-");
  const rows = [["", ...peers.map((peer) => peer.name), "stategit/git", "target", ""]];
  for (const { concurrency, results } of fetchRows) {
    const [theirs, ours] = [results[0].perSecond, results[stategitIndex].perSecond];
    rows.push([`up-to-date fetches/s, ${concurrency} client${concurrency > 1 ? "s" : ""}`, ...results.map((r) => fixed(r.perSecond)), ratio(ours, theirs), `≥${FETCH_TARGET}×`, verdict(ours >= FETCH_TARGET * theirs)]);
  }
  const [gitClone, ourClone] = [clones[0].medianMs, clones[stategitIndex].medianMs];
  rows.push([`git clone, median of ${cloneRuns} (ms)`, ...clones.map((c) => fixed(c.medianMs)), ratio(ourClone, gitClone), `≤${CLONE_TARGET}×`, verdict(ourClone <= CLONE_TARGET * gitClone)]);
  rows.push(["  pack received (KiB)", ...clones.map((c) => fixed(c.packBytes / 1024)), ratio(clones[stategitIndex].packBytes, clones[0].packBytes), "", ""]);

  const failures = fetchRows.flatMap(({ concurrency, results }) =>
    results.flatMap((result, i) => [...result.failures].map(([what, count]) => `${peers[i].name}, ${concurrency} client(s): ${what} × ${count}`)),
  );
  const answered = fetchRows.reduce((sum, { results }) => sum + results.reduce((s, r) => s + r.fetches, 0), 0);
  const out: string[] = [
    `stategit serve benchmark (git ${(await git(["version"])).trim().replace("git version ", "")}, bun ${Bun.version}, ${options.binary ? "dist/stategit" : "bun run src/cli.ts"})`,
    `repository: ${SHAPE.files} Markdown files × ${SHAPE.commits} commits, ${SHAPE.editsPerCommit} one-line edits per commit: ${facts.objects} objects, ${fixed(facts.packBytes / 1024)} KiB packed by git`,
    `cores: ${cores.note}; load average at start ${(await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ")} (the machine is shared)`,
    `each fetch: GET info/refs + POST ls-refs as recorded from git fetch (protocol v2, Git-Protocol: version=2), keep-alive, ${durationMs / 1000} s after a ${WARMUP_MS / 1000} s warm-up;`,
    `  every answer checked: status 200, content type, bytes identical to the first answer, which was checked against the repository's refs`,
    pushMs === undefined ? "stategit: not run (--git-only)" : `stategit loaded by git push in ${fixed(pushMs)} ms`,
    "",
    table(rows),
    "",
    "load client ceiling (same requests against a Bun.serve returning fixed bytes, same core):",
    ...fetchRows.map(({ concurrency, ceiling }) => `  ${concurrency} client(s): ${fixed(ceiling.perSecond)} fetches/s (client ${percent(ceiling.clientCores)} of a core)`),
    "cpu during the fetch runs (share of one core; machine = busy share of cpu0/cpu1, other users included):",
    ...fetchRows.flatMap(({ concurrency, results }) =>
      results.map((r, i) => `  ${peers[i].name}, ${concurrency} client(s): server ${percent(r.serverCores)}, client ${percent(r.clientCores)}, machine ${r.machineBusy.map(percent).join("/")}`),
    ),
    `failures: ${failures.length === 0 ? `none (${fixed(answered)} fetches, ${fixed(answered * 2)} requests, all as expected)` : ""}`,
    ...failures.map((line) => `  ${line}`),
  ];
  process.stdout.write(`${out.join("\n")}\n`);
  return failures.length === 0 ? 0 : 1;
}

await finish(main);
