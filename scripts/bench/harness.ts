/** What the server benchmarks (serve.ts, large.ts) share: their common options, git runner and table. */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./fixtures.ts";
import { Children, stopOnSignalOrTimeout } from "./peers.ts";

/** Options every server benchmark takes (see peers.ts). */
export const PEER_OPTIONS = {
  binary: { type: "boolean", default: false },
  "cgi-bridge": { type: "boolean", default: false },
  "no-pin": { type: "boolean", default: false },
  profile: { type: "boolean", default: false },
  timeout: { type: "string", default: "20" },
} as const;

/**
 * With two or more cores (and pinning not turned off), pins this process, and so the load and git
 * clients it starts, to cpu0 and returns cpu1 for the servers, so each server gets the same single
 * core; otherwise pins nothing.
 */
export function planCores(noPin: boolean): { client?: number; server?: number; note: string } {
  const cores = availableParallelism();
  if (noPin || cores < 2 || !Bun.which("taskset")) return { note: `${cores} cores, nothing pinned: clients and servers share them` };
  run(["taskset", "-a", "-p", "-c", "0", String(process.pid)]);
  return { client: 0, server: 1, note: `${cores} cores: clients (this process, git) on cpu0, each server on cpu1` };
}

/** An environment for git clients that reads no user or system configuration. */
export function isolatedGitEnv(tmp: string): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(tmp, "home"), GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" };
}

/** Runs git in `env` (in `tmp` unless told); resolves to stdout, throws on failure. */
export function gitRunner(env: Record<string, string>, tmp: string): (args: string[], cwd?: string) => Promise<string> {
  return async (args, cwd = tmp) => {
    const child = Bun.spawn(["git", ...args], { cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 600_000 });
    const [status, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
    if (status !== 0) throw new Error(`git ${args.join(" ")} failed (${status}): ${stderr.trim()}`);
    return stdout;
  };
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export const fixed = (value: number, digits = 0) => value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Rows as aligned columns: the first left-aligned, the others right-aligned. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join("  ")).join("\n");
}

/** Runs a benchmark's `main`, then `cleanUp` whatever happened, and exits with main's status (1 when it threw). */
export async function runBenchmark(main: () => Promise<number>, cleanUp: () => Promise<void>, say: (line: string) => void): Promise<never> {
  let status = 1;
  try {
    status = await main();
  } catch (error) {
    say(`failed: ${(error as Error).stack ?? error}`);
  } finally {
    await cleanUp();
  }
  process.exit(status);
}

/**
 * What a server benchmark sets up first: its log line writer, a temporary directory, the children
 * it starts and git clients, all stopped and removed on a signal, after `timeoutMinutes`, or when
 * `finish` has run the benchmark's main (whose status becomes the exit status).
 */
export function setUpBenchmark(name: string, timeoutMinutes: number) {
  const say = (line: string) => process.stderr.write(`[${name}] ${line}\n`);
  const tmp = mkdtempSync(join(tmpdir(), `stategit-${name}-`));
  const children = new Children(tmp);
  const gitEnv = isolatedGitEnv(tmp);
  const removeTmp = () => rmSync(tmp, { recursive: true, force: true });
  stopOnSignalOrTimeout(children, timeoutMinutes, say, removeTmp);
  const cleanUp = async () => {
    await children.stopAll();
    removeTmp();
  };
  const finish = (main: () => Promise<number>) => runBenchmark(main, cleanUp, say);
  return { say, tmp, children, gitEnv, git: gitRunner(gitEnv, tmp), finish };
}
