import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Environment for the real git client in tests: no user config, fixed identities and dates. */
export const GIT_ENV: Record<string, string> = {
  ...(process.env as Record<string, string>),
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  HOME: tmpdir(),
  GIT_AUTHOR_NAME: "Test Author",
  GIT_AUTHOR_EMAIL: "author@example.com",
  GIT_COMMITTER_NAME: "Test Committer",
  GIT_COMMITTER_EMAIL: "committer@example.com",
  GIT_AUTHOR_DATE: "1700000000 +0000",
  GIT_COMMITTER_DATE: "1700000000 +0000",
  GIT_TERMINAL_PROMPT: "0",
};

export interface GitResult {
  stdout: Uint8Array;
  stderr: string;
  exitCode: number;
}

/** Runs git and returns its output; throws with stderr when it exits non-zero (unless `allowFailure`). */
export function git(
  args: string[],
  options: { cwd?: string; input?: Uint8Array | string; env?: Record<string, string>; allowFailure?: boolean } = {},
): GitResult {
  const proc = Bun.spawnSync(["git", ...args], {
    cwd: options.cwd,
    stdin: options.input === undefined ? "ignore" : typeof options.input === "string" ? new TextEncoder().encode(options.input) : options.input,
    env: { ...GIT_ENV, ...options.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const result = { stdout: new Uint8Array(proc.stdout), stderr: proc.stderr.toString(), exitCode: proc.exitCode ?? -1 };
  if (result.exitCode !== 0 && !options.allowFailure) {
    throw new Error(`git ${args.join(" ")} failed (${result.exitCode}): ${result.stderr}`);
  }
  return result;
}

/** git's stdout as trimmed text. */
export function gitText(args: string[], options: Parameters<typeof git>[1] = {}): string {
  return new TextDecoder().decode(git(args, options).stdout).trim();
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = "stategit-test-"): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Runs git without blocking the event loop (never throws; check `exitCode`): needed when git
 * talks to a server living in the same process as the test, which `git()` would starve.
 */
export async function gitAsync(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<GitResult> {
  const proc = Bun.spawn(["git", ...args], { cwd: options.cwd, env: { ...GIT_ENV, ...options.env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).bytes(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, exitCode };
}
