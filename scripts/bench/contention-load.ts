/**
 * Light requests under heavy ones: the latencies of one client's up-to-date fetches, idle and
 * while another client pushes to and clones a large repository of the same server.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { upToDateFetchLoad, type ExpectedAnswers, type UpToDateFetch } from "./load.ts";
import type { Peer } from "./peers.ts";

export interface ContentionContext {
  git: (args: string[], cwd?: string) => Promise<string>;
  /** Where the clients' work tree and clones go. */
  tmp: string;
  /** Of each measurement (idle, under load). */
  durationMs: number;
  say: (line: string) => void;
}

export interface Latencies {
  fetches: number;
  p50: number;
  p99: number;
  max: number;
  failures: string[];
}

function percentile(sorted: number[], share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))];
}

/** One client's sequential up-to-date fetches for `durationMs`: their times' p50, p99 and max. */
export async function fetchLatencies(peer: Peer, exchange: UpToDateFetch, expected: ExpectedAnswers, durationMs: number): Promise<Latencies> {
  const result = await upToDateFetchLoad(peer, exchange, expected, 1, durationMs);
  const sorted = [...result.latenciesMs].sort((a, b) => a - b);
  return {
    fetches: result.fetches,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? NaN,
    failures: [...result.failures].map(([what, count]) => `${what} × ${count}`),
  };
}

/** Pushes a one-line commit from `work` to the peer's large repository, then clones it, until `stop` says so. */
async function pushAndCloneLoop({ git, tmp }: ContentionContext, peer: Peer, work: string, stop: () => boolean): Promise<number> {
  let rounds = 0;
  while (!stop()) {
    await Bun.write(join(work, "dir0", "file0.md"), `edit ${peer.name} ${rounds} ${performance.now()}\n`);
    await git(["-C", work, "commit", "-q", "-a", "-m", `round ${rounds}`]);
    await git(["-C", work, "push", "-q", peer.gitUrl, "HEAD:refs/heads/main"]);
    const clone = join(tmp, `load-clone-${peer.process.pid}`);
    await git(["-c", "protocol.version=2", "clone", "-q", "--bare", peer.gitUrl, clone]);
    rmSync(clone, { recursive: true, force: true });
    rounds++;
  }
  return rounds;
}

export interface ContentionRun {
  peer: Peer;
  idle: Latencies;
  loaded: Latencies;
  rounds: number;
}

/**
 * Up-to-date fetches of `small` (one client, `context.durationMs`), first idle, then while another
 * client pushes a one-line commit to `peer`'s repository (which holds `large`'s history) and clones
 * it, again and again.
 */
export async function measureUnderPushAndClone(
  context: ContentionContext,
  peer: Peer,
  small: Peer,
  exchange: UpToDateFetch,
  expected: ExpectedAnswers,
  large: string,
): Promise<ContentionRun> {
  const { git, tmp, durationMs, say } = context;
  say(`${peer.name}: up-to-date fetches of the small repository, idle`);
  const idle = await fetchLatencies(small, exchange, expected, durationMs);
  const work = join(tmp, `work-${peer.process.pid}`);
  await git(["clone", "-q", large, work]);
  await git(["-C", work, "config", "user.email", "bench@example.com"]);
  await git(["-C", work, "config", "user.name", "Bench"]);
  say(`${peer.name}: the same while another client pushes and clones the large repository`);
  let stopped = false;
  const loop = pushAndCloneLoop(context, peer, work, () => stopped);
  // The first round runs before the measurement starts, so the load is there from its first fetch.
  await Bun.sleep(1000);
  const loaded = await fetchLatencies(small, exchange, expected, durationMs);
  stopped = true;
  const rounds = await loop;
  return { peer, idle, loaded, rounds };
}
