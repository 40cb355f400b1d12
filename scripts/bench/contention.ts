/**
 * Light requests under heavy ones, against C git's `git http-backend`:
 * `bun run scripts/bench/contention.ts [options]`.
 *
 * Each server serves two repositories: the serve benchmark's memory repository (200 files × 2,000
 * commits, ~15k objects) and a small one. One load client repeats the up-to-date fetch of the
 * small repository (GET info/refs + POST ls-refs, protocol v2, recorded from `git fetch`, every
 * answer checked) and records each fetch's time: first alone (idle), then while another client
 * pushes a one-line commit to the large repository and clones it (`git clone --bare`, protocol
 * v2), again and again. The peers take turns, for several rounds, so that the shared machine's
 * load falls on each alike. Printed: p50, p99 and max of the fetch times, idle and under load, and
 * the ratios to git. stategit runs twice: with its pack worker threads (--workers, by default one
 * per CPU) and with `--workers 0`, everything on the request thread (as before the pool).
 * Target (issue 8): p99 under load no higher than git's.
 * The clients run on cpu0, each server on cpu1 (with its worker threads, or its CGI processes),
 * so the servers get the same single core; the machine is shared, so its load is printed.
 *
 * Options: --duration SECONDS (10) per measurement, --rounds N (3), --workers N (the pooled stategit's),
 * --binary, --cgi-bridge, --no-pin, --timeout MINUTES (20).
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { measureRound, summary, type ContentionRun, type ContentionSummary } from "./contention-load.ts";
import { benchRepository, memoryRepository, MEMORY_SHAPE, type RepoShape } from "./fixtures.ts";
import { fixed, PEER_OPTIONS, planCores, setUpBenchmark, table } from "./harness.ts";
import { expectedAnswers, recordUpToDateFetch } from "./load.ts";
import { peerRepository, startGitPeer, startStategitPeer, type Peer } from "./peers.ts";

const SMALL_AGENT = "small-agent";
const SMALL_SHAPE: RepoShape = { files: 10, commits: 20, editsPerCommit: 1, randomBytesPerCommit: 0 };

const { values: options } = parseArgs({
  options: {
    ...PEER_OPTIONS,
    duration: { type: "string", default: "10" },
    rounds: { type: "string", default: "3" },
    workers: { type: "string" },
  },
});
const roundMs = Number(options.duration) * 1000;
const rounds = Number(options.rounds);
if (!(roundMs > 0) || !(rounds >= 1)) throw new Error("--duration and --rounds take positive numbers");

const { say, tmp, children, gitEnv, git, finish } = setUpBenchmark("contention-bench", Number(options.timeout));

async function main(): Promise<number> {
  const cores = planCores(options["no-pin"]);
  const load = async () => (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
  const loadAtStart = await load();
  say(`temporary directory ${tmp}`);
  const largeFacts = await memoryRepository(git);
  const smallFacts = await benchRepository(git, SMALL_SHAPE);
  // git http-backend writes into what it serves: it serves copies.
  const gitLarge = join(tmp, "git-large.git");
  const gitSmall = join(tmp, "git-small.git");
  await git(["clone", "-q", "--bare", "--no-local", largeFacts.path, gitLarge]);
  await git(["clone", "-q", "--bare", "--no-local", smallFacts.path, gitSmall]);
  await git(["-C", gitLarge, "config", "http.receivepack", "true"]);

  const gitPeer = await startGitPeer(children, { repository: gitLarge, more: { [SMALL_AGENT]: gitSmall }, tmp, cpu: cores.server, forceBridge: options["cgi-bridge"], say });
  const stategits: Peer[] = [];
  for (const [name, flags] of [
    ["stategit, --workers 0", ["--workers", "0"]],
    [`stategit${options.workers === undefined ? "" : `, --workers ${options.workers}`}`, options.workers === undefined ? [] : ["--workers", options.workers]],
  ] as const) {
    const dir = join(tmp, `stategit-${stategits.length}`);
    const data = ["--storage", `file:${join(dir, "repos")}`, "--database", `sqlite:${join(dir, "db.sqlite")}`];
    const peer = { ...(await startStategitPeer(children, { tmp, cpu: cores.server, binary: options.binary, flags: [...flags], data, logName: `stategit-${stategits.length}` })), name };
    say(`started ${name}; loading it by git push`);
    await git(["-c", "protocol.version=2", "push", "-q", peer.gitUrl, "+refs/heads/*:refs/heads/*"], largeFacts.path);
    await git(["-c", "protocol.version=2", "push", "-q", peerRepository(peer, SMALL_AGENT).gitUrl, "+refs/heads/*:refs/heads/*"], smallFacts.path);
    stategits.push(peer);
  }

  const fetcher = join(tmp, "fetcher");
  await git(["clone", "-q", "--no-checkout", smallFacts.path, fetcher]);
  const exchange = await recordUpToDateFetch(peerRepository(gitPeer, SMALL_AGENT), fetcher, gitEnv);
  const runs: ContentionRun[] = [];
  for (const peer of [gitPeer, ...stategits]) {
    const small = peerRepository(peer, SMALL_AGENT);
    const work = join(tmp, `work-${runs.length}`);
    await git(["clone", "-q", largeFacts.path, work]);
    await git(["-C", work, "config", "user.email", "bench@example.com"]);
    await git(["-C", work, "config", "user.name", "Bench"]);
    runs.push({ peer, small, expected: await expectedAnswers(small, exchange, smallFacts.refs), work, idle: [], loaded: [], failures: [], rounds: 0 });
  }
  // Peers take turns, round after round, so that the machine's changing load falls on each alike.
  for (let round = 1; round <= rounds; round++) {
    for (const run of runs) {
      say(`round ${round}/${rounds}: ${run.peer.name}, ${roundMs / 1000} s idle, then ${roundMs / 1000} s under push + clone`);
      await measureRound({ git, tmp, roundMs }, run, exchange);
    }
  }

  const summaries = runs.map((run): ContentionSummary => ({ run, idle: summary(run.idle), loaded: summary(run.loaded) }));
  const [theirs, ...ours] = summaries;
  const ms = (value: number) => fixed(value, 1);
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const rows = [["up-to-date fetch of the small repository (ms)", ...runs.map((r) => r.peer.name), ...ours.map((r) => `${r.run.peer.name} / git`)]];
  for (const [label, pick] of [
    ["idle: p50", (r: ContentionSummary) => r.idle.p50],
    ["idle: p99", (r: ContentionSummary) => r.idle.p99],
    ["idle: max", (r: ContentionSummary) => r.idle.max],
    ["under push + clone: p50", (r: ContentionSummary) => r.loaded.p50],
    ["under push + clone: p99", (r: ContentionSummary) => r.loaded.p99],
    ["under push + clone: max", (r: ContentionSummary) => r.loaded.max],
  ] as const) {
    rows.push([label, ...summaries.map((r) => ms(pick(r))), ...ours.map((r) => ratio(pick(r), pick(theirs)))]);
  }
  rows.push(["fetches measured idle / under load", ...runs.map((r) => `${r.idle.length} / ${r.loaded.length}`), ...ours.map(() => "")]);
  rows.push(["push + clone rounds of the large repository", ...runs.map((r) => String(r.rounds)), ...ours.map(() => "")]);
  const failures = runs.flatMap((r) => r.failures.map((line) => `${r.peer.name}: ${line}`));
  const pooled = ours[ours.length - 1];
  const met = pooled.loaded.p99 <= theirs.loaded.p99;
  const out = [
    `stategit contention benchmark (git ${(await git(["version"])).trim().replace("git version ", "")}, bun ${Bun.version}, ${options.binary ? "dist/stategit" : "bun run src/cli.ts"})`,
    `large repository: ${MEMORY_SHAPE.files} files × ${MEMORY_SHAPE.commits} commits, ${largeFacts.objects} objects; small: ${SMALL_SHAPE.files} files × ${SMALL_SHAPE.commits} commits`,
    `cores: ${cores.note}; load average at start ${loadAtStart}, at the end ${await load()} (the machine is shared)`,
    `${rounds} rounds, the peers in turn; in each, ${roundMs / 1000} s idle and ${roundMs / 1000} s under load of one client's sequential up-to-date fetches (GET info/refs + POST ls-refs, v2, answers checked)`,
    "",
    table(rows),
    "",
    `target: p99 under load ≤ git's (${pooled.run.peer.name}): ${met ? "met" : "MISSED"}`,
    `failures: ${failures.length === 0 ? "none" : failures.join("; ")}`,
  ];
  process.stdout.write(`${out.join("\n")}\n`);
  return failures.length === 0 ? 0 : 1;
}

await finish(main);
