import { GIT_ENV, type GitResult } from "../support/git.ts";

/**
 * Runs git without blocking the event loop: needed when git talks to a server living in the
 * same process as the test. Never throws on a non-zero exit; check `exitCode`.
 */
export async function gitAsync(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<GitResult> {
  const proc = Bun.spawn(["git", ...args], { cwd: options.cwd, env: { ...GIT_ENV, ...options.env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).bytes(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, exitCode };
}

/** gitAsync that fails the test with git's stderr on a non-zero exit. */
export async function gitOk(args: string[], options: Parameters<typeof gitAsync>[1] = {}): Promise<string> {
  const result = await gitAsync(args, options);
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed (${result.exitCode}): ${result.stderr}`);
  return new TextDecoder().decode(result.stdout).trim();
}
