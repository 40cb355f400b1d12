/**
 * Long histories and cold clones, against C git's `git http-backend`:
 * `bun run scripts/bench/large.ts [options]`.
 *
 * Generates (once, cached under .bench/) a repository with `git fast-import`: by default 3,000
 * Markdown files × 15,000 commits of three one-line edits each (~119k objects, ~39 MB packed),
 * `--repo small` the serve benchmark's 200 × 2,000. Then, per round, against a fresh stategit
 * server (file storage, SQLite) and a fresh empty repository behind git http-backend:
 *   - push of the history but its last 10 commits (`git push`, protocol v0 as always for push),
 *     then of those 10 commits (so stategit holds a large pack and a small one, as after the
 *     compaction of a long-lived repository and one more change);
 *   - the first clone after that push (no cached pack for those tips: a cold clone);
 *   - a second clone (stategit replays the first clone's pack).
 * For each: wall time, server CPU (user + system of the server process and the children it
 * reaped, from /proc/PID/stat), and for stategit the peak RSS (VmHWM in /proc/PID/status, reset
 * before each step through /proc/PID/clear_refs) next to its idle RSS after start.
 * The client and git processes run on cpu0, the servers on cpu1. Medians over the rounds, with
 * the range, since the machine is shared.
 *
 * Options: --repo large|small (large), --rounds N (3), --profile (CPU profiles of the stategit
 * servers in .bench/profile-*), --binary, --cgi-bridge, --no-pin, --timeout MINUTES (20).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fixed, gitRunner, isolatedGitEnv, median, PEER_OPTIONS, table } from "./harness.ts";
import { generateRepository, run, type RepoShape } from "./fixtures.ts";
import { measureServer, statusBytes, type ServerCost } from "./cost.ts";
import { AGENT, Children, startGitPeer, startStategitPeer, type Peer } from "./peers.ts";

const ROOT = resolve(import.meta.dir, "../..");
const SHAPES: Record<string, RepoShape> = {
  large: { files: 3000, commits: 15000, editsPerCommit: 3, randomBytesPerCommit: 0 },
  small: { files: 200, commits: 2000, editsPerCommit: 2, randomBytesPerCommit: 0 },
};
// Targets of issue 8: time ratios to git, server CPU of the first clone, peak RSS in pack sizes.
const TIME_TARGET = 1;
const COLD_CLONE_CPU_TARGET = 0.5;
const RSS_PACK_MULTIPLE = 3;
/** The history is pushed in two steps, as an agent's memory grows: all but these last commits, then them. */
const LAST_PUSH_COMMITS = 10;

const { values: options } = parseArgs({
  options: {
    ...PEER_OPTIONS,
    repo: { type: "string", default: "large" },
    rounds: { type: "string", default: "3" },
  },
});
const shape = SHAPES[options.repo];
const rounds = Number(options.rounds);
if (!shape) throw new Error(`--repo takes ${Object.keys(SHAPES).join(" or ")}`);
if (!(rounds >= 1)) throw new Error("--rounds takes a positive number");

const say = (line: string) => process.stderr.write(`[large-bench] ${line}\n`);
const tmp = mkdtempSync(join(tmpdir(), "stategit-large-bench-"));
const children = new Children(tmp);
const gitEnv = isolatedGitEnv(tmp);

function stopEverything(status: number): never {
  children.killAllNow();
  rmSync(tmp, { recursive: true, force: true });
  process.exit(status);
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => stopEverything(130));
setTimeout(() => {
  say(`still running after ${options.timeout} minutes: stopping everything`);
  stopEverything(1);
}, Number(options.timeout) * 60_000).unref();

const git = gitRunner(gitEnv, tmp);

/** Pins this process (and so the git clients) to cpu0 and returns the servers' core. */
function pinClient(): number | undefined {
  if (options["no-pin"] || availableParallelism() < 2 || !Bun.which("taskset")) return undefined;
  run(["taskset", "-a", "-p", "-c", "0", String(process.pid)]);
  return 1;
}

/** The same server, another repository: the URL with the agent id replaced. */
function repositoryUrl(peer: Peer, agent: string): string {
  return peer.gitUrl.replace(`/${AGENT}/`, `/${agent}/`);
}

const measure = (peer: Peer, trackRss: boolean, body: () => Promise<unknown>) => measureServer(peer.process.pid, trackRss, body);

async function cloneAndCheck(url: string, dir: string, head: string, objects: number | undefined): Promise<void> {
  try {
    await git(["-c", "protocol.version=2", "clone", "-q", "--no-checkout", url, dir]);
    const cloned = (await git(["rev-parse", "HEAD"], dir)).trim();
    if (cloned !== head) throw new Error(`clone of ${url}: HEAD is ${cloned}, expected ${head}`);
    if (objects !== undefined) {
      const count = Number((await git(["count-objects", "-v"], dir)).match(/in-pack: (\d+)/)?.[1]);
      if (count !== objects) throw new Error(`clone of ${url} holds ${count} objects, expected ${objects}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type StepName = "push" | "last" | "cold" | "warm";

interface Round {
  idleBytes: number;
  git: Record<StepName, ServerCost>;
  ours: Record<StepName, ServerCost>;
}

interface Facts {
  path: string;
  head: string;
  objects: number;
  packBytes: number;
}

async function oneRound(index: number, gitPeer: Peer, facts: Facts, serverCpu: number | undefined, profileDir: string | undefined): Promise<Round> {
  const stategitTmp = join(tmp, `stategit-${index}`);
  mkdirSync(stategitTmp);
  const stategit = await startStategitPeer(children, { tmp: stategitTmp, cpu: serverCpu, binary: options.binary, profileDir });
  try {
    await Bun.sleep(500);
    const idleBytes = statusBytes(stategit.process.pid, "VmRSS");
    const agent = `history-${index}`;
    const gitTarget = join(tmp, "git-root", agent, "state.git");
    await git(["init", "-q", "--bare", "-b", "main", gitTarget]);
    await git(["config", "http.receivepack", "true"], gitTarget);
    const push = (url: string, commit: string) => git(["push", "-q", url, `${commit}:refs/heads/main`], facts.path);
    const clone = (peer: Peer, name: string, check: boolean) => () =>
      cloneAndCheck(repositoryUrl(peer, agent), join(tmp, `clone-${name}`), facts.head, check ? facts.objects : undefined);
    say(`round ${index + 1}/${rounds}: push`);
    const gitPush = await measure(gitPeer, false, () => push(repositoryUrl(gitPeer, agent), `main~${LAST_PUSH_COMMITS}`));
    const ourPush = await measure(stategit, true, () => push(repositoryUrl(stategit, agent), `main~${LAST_PUSH_COMMITS}`));
    const gitLast = await measure(gitPeer, false, () => push(repositoryUrl(gitPeer, agent), "main"));
    const ourLast = await measure(stategit, true, () => push(repositoryUrl(stategit, agent), "main"));
    say(`round ${index + 1}/${rounds}: clones`);
    const gitCold = await measure(gitPeer, false, clone(gitPeer, "git", index === 0));
    const ourCold = await measure(stategit, true, clone(stategit, "ours", index === 0));
    const gitWarm = await measure(gitPeer, false, clone(gitPeer, "git", false));
    const ourWarm = await measure(stategit, true, clone(stategit, "ours", false));
    return {
      idleBytes,
      git: { push: gitPush, last: gitLast, cold: gitCold, warm: gitWarm },
      ours: { push: ourPush, last: ourLast, cold: ourCold, warm: ourWarm },
    };
  } finally {
    await children.stop(stategit.process, 60_000);
  }
}

const mib = (bytes: number) => `${fixed(bytes / 2 ** 20)} MiB`;

function range(values: number[], format: (value: number) => string): string {
  return values.length < 2 ? "" : `${format(Math.min(...values))}-${format(Math.max(...values))}`;
}

function report(results: Round[], facts: Facts, cpuNote: string, load: string): string {
  const rows = [["", "git", "stategit", "ratio (median)", "ratios (range)", "target", ""]];
  const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
  const add = (label: string, step: StepName, what: "ms" | "cpuSeconds", target?: number) => {
    const theirs = results.map((r) => r.git[step][what]);
    const ours = results.map((r) => r.ours[step][what]);
    const ratios = results.map((_, i) => ours[i] / theirs[i]);
    const ratio = median(ratios);
    const format = what === "ms" ? (value: number) => `${fixed(value)} ms` : (value: number) => `${fixed(value, 2)} s`;
    rows.push([label, format(median(theirs)), format(median(ours)), `${ratio.toFixed(2)}×`, range(ratios, (value) => value.toFixed(2)), target === undefined ? "" : `≤${target}×`, target === undefined ? "" : verdict(ratio <= target)]);
  };
  add("push of the history, wall", "push", "ms", TIME_TARGET);
  add("push of the history, server CPU", "push", "cpuSeconds");
  add(`push of the last ${LAST_PUSH_COMMITS} commits, wall`, "last", "ms");
  add("first clone after the push, wall", "cold", "ms", TIME_TARGET);
  add("first clone after the push, server CPU", "cold", "cpuSeconds", COLD_CLONE_CPU_TARGET);
  add("second clone, wall", "warm", "ms");
  add("second clone, server CPU", "warm", "cpuSeconds");
  const idle = median(results.map((r) => r.idleBytes));
  const limit = RSS_PACK_MULTIPLE * facts.packBytes + idle;
  const peak = (step: StepName) => results.map((r) => r.ours[step].peakBytes ?? 0);
  const rss = (label: string, step: StepName) => {
    const value = median(peak(step));
    return `  ${label}: ${mib(value)} (${range(peak(step), mib)}), ${fixed(value / facts.packBytes, 1)}× the pack; limit ${mib(limit)}: ${value <= limit ? "met" : "MISSED"}`;
  };
  return [
    `stategit large-history benchmark (git ${new TextDecoder().decode(run(["git", "version"])).trim().replace("git version ", "")}, bun ${Bun.version}, ${options.binary ? "dist/stategit" : "bun run src/cli.ts"})`,
    `repository: ${shape.files} Markdown files × ${shape.commits} commits, ${shape.editsPerCommit} one-line edits per commit: ${fixed(facts.objects)} objects, ${mib(facts.packBytes)} packed by git`,
    `${results.length} round(s), each against a fresh stategit server and a fresh git repository; ${cpuNote}; load average at start ${load}`,
    "",
    table(rows),
    "",
    `stategit peak RSS (VmHWM, reset before each step; idle after start ${mib(idle)}; target ≤ ${RSS_PACK_MULTIPLE}× pack + idle):`,
    rss("push of the history", "push"),
    rss(`push of the last ${LAST_PUSH_COMMITS} commits`, "last"),
    rss("first clone", "cold"),
    rss("second clone", "warm"),
  ].join("\n");
}

async function main(): Promise<void> {
  const serverCpu = pinClient();
  const cpuNote = serverCpu === undefined ? "nothing pinned" : "client and git clients on cpu0, servers on cpu1";
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  const path = join(ROOT, ".bench", `history-repo-${shape.files}f-${shape.commits}c-${shape.editsPerCommit}e.git`);
  const started = performance.now();
  generateRepository(path, shape);
  const counts = Object.fromEntries((await git(["count-objects", "-v"], path)).trim().split("\n").map((line) => line.split(": ")));
  const facts: Facts = { path, head: (await git(["rev-parse", "HEAD"], path)).trim(), objects: Number(counts["in-pack"]), packBytes: Number(counts["size-pack"]) * 1024 };
  say(`repository ${path}: ${fixed(facts.objects)} objects, ${mib(facts.packBytes)} (${fixed(performance.now() - started)} ms)`);
  const gitPeer = await startGitPeer(children, { repository: path, tmp, cpu: serverCpu, forceBridge: options["cgi-bridge"], say });
  const profileDir = options.profile ? mkdtempSync(join(ROOT, ".bench", "profile-")) : undefined;
  const results: Round[] = [];
  for (let index = 0; index < rounds; index++) results.push(await oneRound(index, gitPeer, facts, serverCpu, profileDir));
  if (profileDir) say(`CPU profiles of the stategit servers: ${profileDir}`);
  process.stdout.write(`${report(results, facts, cpuNote, load)}\n`);
}

let status = 1;
try {
  await main();
  status = 0;
} catch (error) {
  say(`failed: ${(error as Error).stack ?? error}`);
} finally {
  await children.stopAll();
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(status);
