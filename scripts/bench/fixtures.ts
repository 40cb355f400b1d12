/**
 * Generated repositories for the benchmarks, built with `git fast-import` from a deterministic
 * stream (a seeded PRNG), so every run and every peer sees the same bytes.
 */
import { seededRandom } from "../../test/support/random.ts";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

export interface RepoShape {
  files: number;
  commits: number;
  /** Files edited per commit (small line edits: what delta search finds). */
  editsPerCommit: number;
  /** Bytes of incompressible data added per commit as a new file (0 for none). */
  randomBytesPerCommit: number;
}

const WORDS = "agent memory block state value label human persona skill system tool note plan goal task fact summary context archive recall".split(" ");

export const prng = seededRandom;

function textFile(random: () => number, lines: number): string[] {
  return Array.from({ length: lines }, () => Array.from({ length: 8 }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" "));
}

/** Creates (once, cached by shape) a bare repository at `dir` and returns its path. */
export function generateRepository(dir: string, shape: RepoShape): string {
  if (existsSync(join(dir, "HEAD"))) return dir;
  mkdirSync(dir, { recursive: true });
  run(["git", "init", "-q", "--bare", "-b", "main", dir]);
  const random = prng(42);
  const contents = Array.from({ length: shape.files }, () => textFile(random, 40));
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const emit = (text: string) => parts.push(encoder.encode(text));
  const data = (bytes: Uint8Array) => {
    emit(`data ${bytes.length}\n`);
    parts.push(bytes, encoder.encode("\n"));
  };
  for (let commit = 0; commit < shape.commits; commit++) {
    emit(`commit refs/heads/main\ncommitter Bench <bench@example.com> ${1700000000 + commit * 60} +0000\n`);
    data(encoder.encode(`commit ${commit}\n`));
    const touched = commit === 0 ? contents.map((_, i) => i) : Array.from({ length: shape.editsPerCommit }, () => Math.floor(random() * shape.files));
    for (const file of touched) {
      if (commit > 0) contents[file][Math.floor(random() * contents[file].length)] = textFile(random, 1)[0];
      emit(`M 100644 inline dir${file % 10}/file${file}.md\n`);
      data(encoder.encode(contents[file].join("\n") + "\n"));
    }
    if (shape.randomBytesPerCommit > 0) {
      const blob = new Uint8Array(shape.randomBytesPerCommit);
      for (let i = 0; i < blob.length; i++) blob[i] = Math.floor(random() * 256);
      emit(`M 100644 inline assets/blob${commit}.bin\n`);
      data(blob);
    }
  }
  const stream = Buffer.concat(parts);
  run(["git", "fast-import", "--quiet"], { cwd: dir, input: stream });
  run(["git", "repack", "-adq"], { cwd: dir });
  return dir;
}

export function run(cmd: string[], options: { cwd?: string; input?: Uint8Array } = {}): Uint8Array {
  const proc = Bun.spawnSync(cmd, { cwd: options.cwd, stdin: options.input ?? "ignore", stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${proc.stderr.toString()}`);
  return new Uint8Array(proc.stdout);
}

/** Median wall time in milliseconds of `runs` calls. */
export async function medianMs(runs: number, body: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await body();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Agent memory: 200 Markdown files, 2,000 commits, most touching a couple of blocks with a one-line edit. */
export const MEMORY_SHAPE: RepoShape = { files: 200, commits: 2000, editsPerCommit: 2, randomBytesPerCommit: 0 };

export interface RepositoryFacts {
  path: string;
  head: string;
  /** What ls-refs with `symrefs` and `peel` lists, HEAD first with its target (gitprotocol-v2, "ls-refs"). */
  refs: string[];
  objects: number;
  packBytes: number;
}

/** The benchmarks' memory repository (MEMORY_SHAPE), generated once into .bench/, and what the checks need of it. */
export async function memoryRepository(git: (args: string[], cwd?: string) => Promise<string>): Promise<RepositoryFacts> {
  return benchRepository(git, MEMORY_SHAPE);
}

/** A repository of `shape`, generated once into .bench/, and what the checks need of it. */
export async function benchRepository(git: (args: string[], cwd?: string) => Promise<string>, shape: RepoShape): Promise<RepositoryFacts> {
  const path = join(resolve(import.meta.dir, "../.."), ".bench", `serve-repo-${shape.files}f-${shape.commits}c-${shape.editsPerCommit}e.git`);
  generateRepository(path, shape);
  const head = (await git(["rev-parse", "HEAD"], path)).trim();
  const symref = (await git(["symbolic-ref", "HEAD"], path)).trim();
  const refs = (await git(["for-each-ref", "--format=%(objectname) %(refname)%(if)%(*objectname)%(then) peeled:%(*objectname)%(end)", "refs/heads", "refs/tags"], path))
    .split("\n")
    .filter((line) => line !== "");
  const counts = Object.fromEntries((await git(["count-objects", "-v"], path)).trim().split("\n").map((line) => line.split(": ")));
  return { path, head, refs: [`${head} HEAD symref-target:${symref}`, ...refs], objects: Number(counts["in-pack"]), packBytes: Number(counts["size-pack"]) * 1024 };
}
