/**
 * Light requests under heavy ones: the latencies of one client's up-to-date fetches of a small
 * repository, idle and while another client pushes to and clones a large repository of the same
 * server (contention.ts, compare.ts).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { upToDateFetchLoad, type ExpectedAnswers, type UpToDateFetch } from "./load.ts";
import type { Peer } from "./peers.ts";

export interface ContentionContext {
  git: (args: string[], cwd?: string) => Promise<string>;
  /** Where the clones go. */
  tmp: string;
  /** Of each measurement (idle, under load). */
  roundMs: number;
}

/** One peer's fetch times (ms), idle and under load, over every round, and what failed. */
export interface ContentionRun {
  peer: Peer;
  small: Peer;
  expected: ExpectedAnswers;
  /** A clone of the large repository the pushes are made from. */
  work: string;
  idle: number[];
  loaded: number[];
  failures: string[];
  /** Push + clone rounds of the large repository. */
  rounds: number;
}

export interface Summary {
  p50: number;
  p99: number;
  max: number;
}

/** A run's latencies summed up. */
export interface ContentionSummary {
  run: ContentionRun;
  idle: Summary;
  loaded: Summary;
}

export function summary(latencies: readonly number[]): Summary {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (share: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))];
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? NaN };
}

async function fetchLatencies(roundMs: number, run: ContentionRun, exchange: UpToDateFetch, into: number[]): Promise<void> {
  const result = await upToDateFetchLoad(run.small, exchange, run.expected, 1, roundMs);
  into.push(...result.latenciesMs);
  run.failures.push(...[...result.failures].map(([what, count]) => `${what} × ${count}`));
}

/** Pushes a one-line commit from `work` to the peer's large repository, then clones it, until `stop` says so. */
async function pushAndCloneLoop({ git, tmp }: ContentionContext, run: ContentionRun, stop: () => boolean): Promise<void> {
  while (!stop()) {
    await Bun.write(join(run.work, "dir0", "file0.md"), `edit ${run.peer.name} ${run.rounds} ${performance.now()}\n`);
    await git(["-C", run.work, "commit", "-q", "-a", "-m", `round ${run.rounds}`]);
    await git(["-C", run.work, "push", "-q", run.peer.gitUrl, "HEAD:refs/heads/main"]);
    const clone = join(tmp, `load-clone-${run.peer.process.pid}`);
    await git(["-c", "protocol.version=2", "clone", "-q", "--bare", run.peer.gitUrl, clone]);
    rmSync(clone, { recursive: true, force: true });
    run.rounds++;
  }
}

/** One round of a peer: fetches alone, then fetches while the push + clone loop runs. */
export async function measureRound(context: ContentionContext, run: ContentionRun, exchange: UpToDateFetch): Promise<void> {
  await fetchLatencies(context.roundMs, run, exchange, run.idle);
  let stopped = false;
  const loop = pushAndCloneLoop(context, run, () => stopped);
  // The first push and clone start before the measurement, so the load is there from its first fetch.
  await Bun.sleep(1000);
  await fetchLatencies(context.roundMs, run, exchange, run.loaded);
  stopped = true;
  await loop;
}
