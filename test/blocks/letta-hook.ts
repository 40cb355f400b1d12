/**
 * Letta Code's own pre-commit hook, installed into real clones the way its CLI installs it, so
 * the compatibility test can compare verdicts. The package comes from the npm registry with
 * `npm pack` (the package's own files, not its dependencies: `npm install` of this version fails
 * because one of them, @janhapke/sharp-electron@0.35.3-electron.1, is not in the registry, and the
 * hook needs none of them). It is unpacked once under node_modules/.cache and reused.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { GitObject, ObjectReader, ObjectType } from "../../src/git/object/index.ts";
import type { Oid } from "../../src/git/oid.ts";
import { git } from "../support/git.ts";

export const LETTA_CODE_VERSION = "0.32.18";
const CACHE = join(import.meta.dir, "..", "..", "node_modules", ".cache", `letta-code-${LETTA_CODE_VERSION}`);

/**
 * The CLI's bundle holds the hook's sources and its installer, installPreCommitHookWithPolicy
 * (src/agent/memory-git-hooks.ts), between these two module markers.
 */
const SECTION_START = "// src/memory-frontmatter.ts\n";
const SECTION_END = "// src/agent/personality-default-files.ts\n";
/** What the section takes from the rest of the bundle: the lazy-module wrapper and a debug logger. */
const SECTION_PRELUDE = "var __esm = (fn, res) => () => (fn && (res = fn(fn = 0)), res);\nvar init_debug = () => {};\nvar debugLog = () => {};\n";
const SECTION_MAIN = "\ninit_memory_git_hooks();\ninstallPreCommitHookWithPolicy(process.argv[2], process.argv[3]);\n";

function run(command: string[], cwd?: string): { ok: boolean; output: string } {
  const result = Bun.spawnSync(command, { cwd, stdout: "pipe", stderr: "pipe" });
  return { ok: result.exitCode === 0, output: `${result.stdout.toString()}${result.stderr.toString()}` };
}

/** Downloads and unpacks the package once; returns the path of its CLI bundle, or why it could not. */
export function lettaCodeBundle(): { bundle: string } | { error: string } {
  const bundle = join(CACHE, "package", "letta.js");
  if (existsSync(bundle)) return { bundle };
  mkdirSync(join(CACHE, ".."), { recursive: true });
  const scratch = mkdtempSync(`${CACHE}.partial-`);
  try {
    const pack = run(["npm", "pack", "--loglevel", "error", `@letta-ai/letta-code@${LETTA_CODE_VERSION}`, "--pack-destination", scratch]);
    const tarball = readdirSync(scratch).find((name) => name.endsWith(".tgz"));
    if (!pack.ok || !tarball) return { error: `npm pack @letta-ai/letta-code@${LETTA_CODE_VERSION} failed: ${pack.output.trim()}` };
    const untar = run(["tar", "xzf", tarball], scratch);
    if (!untar.ok) return { error: `unpacking ${tarball} failed: ${untar.output.trim()}` };
    if (!existsSync(CACHE)) renameSync(scratch, CACHE);
    return { bundle };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Writes a module that runs the CLI's own hook installer: `node installer.mjs REPO POLICY`. */
export function writeHookInstaller(bundle: string, directory: string): string {
  const source = readFileSync(bundle, "utf8");
  const start = source.indexOf(SECTION_START);
  const end = source.indexOf(SECTION_END, start);
  if (start < 0 || end < 0) throw new Error(`the hook installer was not found in ${bundle}`);
  const installer = join(directory, "install-letta-hook.mjs");
  writeFileSync(installer, SECTION_PRELUDE + source.slice(start, end) + SECTION_MAIN);
  return installer;
}

/** Letta's hook policies: `root-marker` (agent memory, v1 or v2) and `shared-memory`. */
export type HookPolicy = "root-marker" | "shared-memory";

export function installHook(installer: string, repository: string, policy: HookPolicy): void {
  const result = run(["node", installer, repository, policy]);
  if (!result.ok) throw new Error(`installing Letta's hook failed: ${result.output}`);
}

/** Every object of a git repository (loose and packed), read once into memory. */
export function repositoryObjects(repository: string): ObjectReader {
  const out = git(["cat-file", "--batch-all-objects", "--batch"], { cwd: repository }).stdout;
  const objects = new Map<Oid, GitObject>();
  let offset = 0;
  while (offset < out.length) {
    const newline = out.indexOf(0x0a, offset);
    const [oid, type, size] = new TextDecoder().decode(out.subarray(offset, newline)).split(" ");
    const start = newline + 1;
    objects.set(oid, { type: type as ObjectType, data: out.slice(start, start + Number(size)) });
    offset = start + Number(size) + 1;
  }
  return { hasObject: (oid) => objects.has(oid), readObject: (oid) => objects.get(oid) };
}
