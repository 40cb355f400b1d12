/**
 * Compatibility with Letta Code's pre-commit hook, the hook itself as judge: for each case, a real
 * clone with the hook installed by the CLI's own installer commits `base` (without the hook), then
 * `change` with `git commit` (the hook runs), and checkChanges judges the same two trees.
 * Verdicts must agree, except where stategit is documented stricter (`stricter`: the hook accepts,
 * stategit refuses) and where it lets a history be fixed forward (`fixForward`: the hook refuses
 * for a file the commit does not touch, stategit checks only what changes).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { checkChanges, writeBlockFile, type MemoryPolicy } from "../../src/blocks/index.ts";
import { git, gitText, tempDir } from "../support/git.ts";
import { installHook, lettaCodeBundle, repositoryObjects, writeHookInstaller, type HookPolicy } from "./letta-hook.ts";
import { seededRandom } from "../support/random.ts";
import { v1, v2, type FileSpec, type Files } from "./support.ts";

interface HookCase {
  name: string;
  policy?: MemoryPolicy;
  base?: Files;
  change: Record<string, FileSpec | null>;
  /** The codes stategit reports; none means accepted. */
  codes: string[];
  /** The hook accepts what stategit refuses (a documented stricter rule). */
  stricter?: true;
  /** The hook refuses for a file the change does not touch; stategit accepts (fix forward). */
  fixForward?: true;
  /** The config change is approved: the hook's LETTA_MEMORY_CONSTRAINTS_UPDATE=1, stategit's --admin key. */
  approved?: true;
}

const ROOT = "# Memory\n";
const long = (characters: number) => `${"x".repeat(characters)}`;
const symlink = (target: string): FileSpec => ({ content: target, mode: 0o120000 });
const config = (value: object) => JSON.stringify({ version: 1, ...value });
/** A description YAML must quote and escape: what an API write produces for it must pass the hook. */
const AWKWARD = "line one\nline two: 'quoted' # not a comment \u2028 \"end\"";

/** A v1 file `system/policy.md` with a value and, when given, a `read_only` line. */
const policyFile = ([value, readOnly]: [string, string?]) => v1("rules", `${value}\n`, readOnly === undefined ? "" : `read_only: ${readOnly}\n`);
const editPolicy = (name: string, before: [string, string?], after: [string, string?], codes: string[]): HookCase => ({
  name,
  base: { "system/policy.md": policyFile(before) },
  change: { "system/policy.md": policyFile(after) },
  codes,
});

const V1_CASES: HookCase[] = [
  { name: "a valid block", change: { "system/human.md": v1("the human", "likes tea\n") }, codes: [] },
  { name: "a block written by the API", change: { "system/human.md": writeBlockFile("v1", "system/human.md", undefined, { value: "v", description: AWKWARD, limit: 9 }) }, codes: [] },
  { name: "a nested valid block", change: { "system/project/notes.md": v1("notes", "x") }, codes: [] },
  { name: "no front matter", change: { "system/human.md": "likes tea\n" }, codes: ["frontmatter.missing"] },
  { name: "front matter never closed", change: { "system/human.md": "---\ndescription: x\nlikes tea\n" }, codes: ["frontmatter.unclosed"] },
  { name: "an unknown key", change: { "system/human.md": v1("x", "v", "mood: happy\n") }, codes: ["frontmatter.unknown-key"] },
  { name: "no description", change: { "system/human.md": "---\nlimit: 5\n---\nv" }, codes: ["frontmatter.required-key"] },
  { name: "an empty description", change: { "system/human.md": "---\ndescription:\n---\nv" }, codes: ["frontmatter.empty-key"] },
  { name: "a quoted empty description (v1 reads it as text)", change: { "system/human.md": '---\ndescription: ""\n---\nv' }, codes: [] },
  { name: "a repeated description (v1 allows it)", change: { "system/human.md": "---\ndescription: a\ndescription: b\n---\nv" }, codes: [] },
  { name: "a multi-line YAML description", change: { "system/human.md": "---\ndescription: >\n  folded\n  text\n---\nv" }, codes: [] },
  { name: "a key line without a colon is its own value", change: { "system/human.md": "---\ndescription\n---\nv" }, codes: [] },
  { name: "an indented unknown key (v1 skips indented lines)", change: { "system/human.md": v1("x", "v", "  mood: happy\n") }, codes: [] },
  { name: "CRLF line ends", change: { "system/human.md": "---\r\ndescription: x\r\n---\r\nv\r\n" }, codes: ["frontmatter.missing"] },
  { name: "a byte-order mark", change: { "system/human.md": `\uFEFF${v1("x", "v")}` }, codes: ["frontmatter.missing"] },
  { name: "reference/ files need front matter", change: { "reference/api.md": "no front matter\n" }, codes: ["frontmatter.missing"] },
  { name: "memory/system/ files need front matter", change: { "memory/system/old.md": "no front matter\n" }, codes: ["frontmatter.missing"] },
  { name: "other Markdown is free", change: { "notes/todo.md": "anything\n", "README.md": "# hi\n" }, codes: [] },
  { name: "a symlink block", change: { "system/link.md": symlink("human.md") }, codes: ["frontmatter.missing"] },
  { name: "read_only on a new file", change: { "system/human.md": v1("x", "v", "read_only: true\n") }, codes: ["read-only.set"] },
  { name: "read_only: false on a new file", change: { "system/human.md": v1("x", "v", "read_only: false\n") }, codes: ["read-only.set"] },
  editPolicy("modifying a read-only file", ["be kind", "true"], ["be rude", "true"], ["read-only.modified"]),
  editPolicy("turning read_only off", ["be kind", "true"], ["be kind", "false"], ["read-only.modified", "read-only.changed"]),
  editPolicy("turning read_only on", ["be kind", "false"], ["be kind", "true"], ["read-only.changed"]),
  editPolicy("removing read_only", ["be kind", "false"], ["be kind"], ["read-only.removed"]),
  editPolicy("modifying a file with read_only: false", ["be kind", "false"], ["be kinder", "false"], []),
  editPolicy('read_only: "true" is not read-only for the hook', ["be kind", '"true"'], ["be kinder", '"true"'], []),
  {
    name: "deleting a read-only file",
    base: { "system/policy.md": v1("rules", "be kind\n", "read_only: true\n"), "system/human.md": v1("x", "v") },
    change: { "system/policy.md": null },
    codes: ["read-only.deleted"],
    stricter: true,
  },
  {
    name: "renaming a read-only file",
    base: { "system/policy.md": v1("rules", "be kind\n", "read_only: true\n") },
    change: { "system/policy.md": null, "system/rules.md": v1("rules", "be kind\n", "read_only: true\n") },
    codes: ["read-only.deleted"],
    stricter: true,
  },
  {
    name: "renaming a file that predates the rules",
    base: { "system/old.md": "legacy block without front matter\n" },
    change: { "system/old.md": null, "system/older.md": "legacy block without front matter\n" },
    codes: [],
  },
  {
    name: "a file that predates the rules, untouched",
    base: { "system/old.md": "legacy block without front matter\n" },
    change: { "system/human.md": v1("x", "v") },
    codes: [],
  },
  { name: "a value longer than its limit", change: { "system/human.md": v1("x", "123456", "limit: 5\n") }, codes: ["limit.exceeded"], stricter: true },
  { name: "a value within its limit", change: { "system/human.md": v1("x", "12345", "limit: 5\n") }, codes: [] },
  { name: "a flat skill", change: { "skills/search.md": "search\n" }, codes: ["skills.flat"] },
  { name: "a flat skill under memory/", change: { "memory/skills/search.md": "search\n" }, codes: ["skills.flat"] },
  { name: "a skill folder", change: { "skills/search/SKILL.md": "search the web\n", "skills/search/notes.md": "x" }, codes: [] },
  { name: "a large file without a config", change: { "system/human.md": v1("x", long(30_000)) }, codes: [] },
  { name: "a deep file without a config", change: { "system/a/b/c/d.md": v1("x", "v") }, codes: [] },
  {
    name: "a file over maxFileCharacters",
    base: { ".memfs.config.json": config({ maxFileCharacters: 100 }) },
    change: { "system/human.md": v1("x", long(100)) },
    codes: ["characters.file"],
  },
  {
    name: "a file within maxFileCharacters (code points, front matter included)",
    base: { ".memfs.config.json": config({ maxFileCharacters: 100 }) },
    change: { "system/human.md": v1("x", "é".repeat(100 - v1("x", "").length)) },
    codes: [],
  },
  {
    name: "a file over the default limit once a config exists",
    base: { ".memfs.config.json": config({}) },
    change: { "system/human.md": v1("x", long(20_000)) },
    codes: ["characters.file"],
  },
  { name: "a file deeper than the default maxDepth once a config exists", base: { ".memfs.config.json": config({}) }, change: { "system/a/b/c.md": v1("x", "v") }, codes: ["depth.exceeded"] },
  {
    name: "fileCharacterLimits: null lifts the limit",
    base: { ".memfs.config.json": config({ maxFileCharacters: 100, fileCharacterLimits: [{ pattern: "system/big/**", maxCharacters: null }] }) },
    change: { "system/big/log.md": v1("x", long(500)) },
    codes: [],
  },
  {
    name: "fileCharacterLimits: the first matching pattern decides",
    base: { ".memfs.config.json": config({ fileCharacterLimits: [{ pattern: "system/*.md", maxCharacters: 50 }, { pattern: "**", maxCharacters: 1000 }] }) },
    change: { "system/human.md": v1("x", long(60)), "reference/a.md": v1("x", long(60)) },
    codes: ["characters.file"],
  },
  { name: "adding a config", change: { ".memfs.config.json": config({}) }, codes: ["config.protected"] },
  { name: "changing the config", base: { ".memfs.config.json": config({}) }, change: { ".memfs.config.json": config({ maxDepth: 5 }) }, codes: ["config.protected"] },
  { name: "deleting the config", base: { ".memfs.config.json": config({}) }, change: { ".memfs.config.json": null }, codes: ["config.protected"] },
  { name: "an approved config change", base: { ".memfs.config.json": config({}) }, change: { ".memfs.config.json": config({ maxDepth: 5 }) }, codes: [], approved: true },
  {
    name: "an approved but invalid config",
    change: { ".memfs.config.json": JSON.stringify({ version: 2, maxDepth: -1, colour: "red" }) },
    codes: ["config.invalid", "config.invalid", "config.invalid"],
    approved: true,
  },
  {
    name: "an approved config that existing files break",
    base: { "system/human.md": v1("x", long(200)) },
    change: { ".memfs.config.json": config({ maxFileCharacters: 100 }) },
    codes: ["characters.file"],
    approved: true,
  },
];

const V2_BASE: Files = { "MEMORY.md": ROOT };

const V2_CASES: HookCase[] = [
  { name: "a valid root block", base: V2_BASE, change: { "human.md": v2("Human", "the human", "likes tea\n") }, codes: [] },
  { name: "a block written by the API", base: V2_BASE, change: { "human.md": writeBlockFile("v2", "human.md", undefined, { value: "v", name: AWKWARD, description: AWKWARD }) }, codes: [] },
  { name: "starting v2 with a root index and a block", change: { "MEMORY.md": ROOT, "human.md": v2("Human", "the human", "x") }, codes: [] },
  { name: "no name", base: V2_BASE, change: { "human.md": "---\ndescription: d\n---\nv" }, codes: ["frontmatter.required-key"] },
  { name: "no front matter", base: V2_BASE, change: { "human.md": "v" }, codes: ["frontmatter.missing"] },
  { name: "front matter never closed", base: V2_BASE, change: { "human.md": "---\nname: a\ndescription: b\n" }, codes: ["frontmatter.unclosed"] },
  { name: "a v1 key", base: V2_BASE, change: { "human.md": "---\nname: a\ndescription: b\nread_only: true\n---\nv" }, codes: ["frontmatter.unknown-key"] },
  { name: "a repeated key", base: V2_BASE, change: { "human.md": "---\nname: a\nname: b\ndescription: c\n---\nv" }, codes: ["frontmatter.repeated-key"] },
  { name: "an empty name", base: V2_BASE, change: { "human.md": "---\nname:\ndescription: c\n---\nv" }, codes: ["frontmatter.empty-key"] },
  { name: "a quoted empty description", base: V2_BASE, change: { "human.md": "---\nname: a\ndescription: ''\n---\nv" }, codes: ["frontmatter.empty-key"] },
  { name: "quoted values", base: V2_BASE, change: { "human.md": '---\nname: "Human: the one"\ndescription: \'who\'\n---\nv' }, codes: [] },
  {
    name: "a multi-line YAML description (v2 reads key lines only)",
    base: V2_BASE,
    change: { "human.md": "---\nname: a\ndescription: >\n  folded\n---\nv" },
    codes: ["frontmatter.unknown-key"],
  },
  { name: "a YAML comment", base: V2_BASE, change: { "human.md": "---\n# note\nname: a\ndescription: b\n---\nv" }, codes: ["frontmatter.unknown-key"] },
  { name: "a root index with front matter", change: { "MEMORY.md": "---\nname: a\ndescription: b\n---\nv" }, codes: ["frontmatter.in-index"] },
  { name: "a nested index with front matter", base: V2_BASE, change: { "project/MEMORY.md": "---\nname: a\n---\n", "project/a.md": v2("a", "b", "c") }, codes: ["frontmatter.in-index"] },
  { name: "a nested file without its index", base: V2_BASE, change: { "project/tools.md": v2("Tools", "tools", "v") }, codes: ["index.missing"] },
  { name: "a nested file with its index", base: V2_BASE, change: { "project/MEMORY.md": "# Project\n", "project/tools.md": v2("Tools", "tools", "v") }, codes: [] },
  {
    name: "a file two levels down with one index missing",
    base: V2_BASE,
    change: { "a/b/MEMORY.md": "# B\n", "a/b/c.md": v2("c", "c", "v") },
    codes: ["index.missing", "index.missing"],
  },
  {
    name: "deleting an index that files still need",
    base: { ...V2_BASE, "project/MEMORY.md": "# Project\n", "project/tools.md": v2("Tools", "tools", "v") },
    change: { "project/MEMORY.md": null },
    codes: ["index.missing"],
  },
  { name: "deleting the root index", base: { ...V2_BASE, "human.md": v2("h", "h", "v") }, change: { "MEMORY.md": null }, codes: ["index.root-required"] },
  {
    name: "a file deeper than maxDepth",
    base: { ...V2_BASE, "a/MEMORY.md": "#\n", "a/b/MEMORY.md": "#\n", "a/b/c/MEMORY.md": "#\n" },
    change: { "a/b/c/d.md": v2("d", "d", "v") },
    codes: ["depth.exceeded"],
  },
  { name: "a root file over 20,000 characters", base: V2_BASE, change: { "human.md": v2("h", "h", long(20_000)) }, codes: ["characters.file"] },
  {
    name: "core memory over 65,536 characters",
    base: { ...V2_BASE, "a.md": v2("a", "a", long(19_000)), "b.md": v2("b", "b", long(19_000)), "c.md": v2("c", "c", long(19_000)) },
    change: { "d.md": v2("d", "d", long(19_000)) },
    codes: ["characters.core"],
  },
  {
    name: "nested files do not count as core memory",
    base: { ...V2_BASE, "a.md": v2("a", "a", long(19_000)), "b.md": v2("b", "b", long(19_000)), "c.md": v2("c", "c", long(19_000)), "p/MEMORY.md": "#\n" },
    change: { "p/d.md": v2("d", "d", long(19_000)) },
    codes: [],
  },
  {
    name: "a config's maxCoreMemoryCharacters",
    base: { ...V2_BASE, ".memfs.config.json": config({ maxCoreMemoryCharacters: 100 }) },
    change: { "a.md": v2("a", "a", long(100)) },
    codes: ["characters.core"],
  },
  {
    name: "a fileCharacterLimits glob",
    base: { ...V2_BASE, ".memfs.config.json": config({ fileCharacterLimits: [{ pattern: "log?.md", maxCharacters: 50 }] }) },
    change: { "log1.md": v2("l", "l", long(50)), "log10.md": v2("l", "l", long(50)) },
    codes: ["characters.file"],
  },
  { name: "a flat skill", base: V2_BASE, change: { "skills/search.md": "x" }, codes: ["skills.flat"] },
  { name: "a skill folder needs no memory front matter", base: V2_BASE, change: { "skills/search/SKILL.md": "search\n", "skills/search/deep/er/notes.md": "x" }, codes: [] },
  { name: "a symlink block", base: V2_BASE, change: { "link.md": symlink("MEMORY.md") }, codes: ["frontmatter.missing", "file.not-regular"] },
  { name: "changing the config", base: V2_BASE, change: { ".memfs.config.json": config({ maxDepth: 3 }) }, codes: ["config.protected"] },
  {
    name: "switching from v1 leaves v1 blocks without indexes",
    base: { "system/human.md": v1("x", "v") },
    change: { "MEMORY.md": ROOT },
    codes: ["index.missing"],
  },
  {
    name: "switching from v1 with indexes checks the old files as v2",
    base: { "system/human.md": v1("x", "v") },
    change: { "MEMORY.md": ROOT, "system/MEMORY.md": "# System\n" },
    codes: ["frontmatter.required-key"],
  },
  {
    name: "switching from v1, done right",
    base: { "system/human.md": v1("x", "v") },
    change: { "MEMORY.md": ROOT, "system/MEMORY.md": "# System\n", "system/human.md": v2("Human", "x", "v") },
    codes: [],
  },
  {
    name: "a file that breaks the rules, untouched",
    base: { ...V2_BASE, "old.md": "legacy\n" },
    change: { "human.md": v2("h", "h", "v") },
    codes: [],
    fixForward: true,
  },
];

const SHARED_CASES: HookCase[] = [
  { name: "a nested file needs no index", change: { "docs/plans/q3.md": v2("Q3", "plans", "v") }, codes: [] },
  { name: "a block written by the API", change: { "notes.md": writeBlockFile("v2", "notes.md", undefined, { value: "v", description: AWKWARD }) }, codes: [] },
  {
    name: "a block rewritten by the API keeps its front matter",
    base: { "docs/plan.md": v2("Plan", "the plan", "old") },
    change: { "docs/plan.md": writeBlockFile("v2", "docs/plan.md", new TextEncoder().encode(v2("Plan", "the plan", "old")), { value: "new" }) },
    codes: [],
  },
  { name: "a description only", change: { "notes.md": writeBlockFile("v2", "notes.md", undefined, { value: "v", name: "", description: "d" }) }, codes: ["frontmatter.empty-key"] },
  { name: "no name", change: { "docs/plan.md": "---\ndescription: d\n---\nv" }, codes: ["frontmatter.required-key"] },
  { name: "an index with front matter", change: { "MEMORY.md": "---\nname: a\ndescription: b\n---\n" }, codes: ["frontmatter.in-index"] },
  { name: "an index without front matter", change: { "MEMORY.md": "# Shared\n" }, codes: [] },
  { name: "no limits without a config", change: { "a/b/c/d/e.md": v2("e", "e", long(30_000)) }, codes: [] },
  { name: "a config's limit", base: { ".memfs.config.json": config({ maxFileCharacters: 100 }) }, change: { "notes.md": v2("n", "n", long(100)) }, codes: ["characters.file"] },
  { name: "a config without maxDepth sets none", base: { ".memfs.config.json": config({}) }, change: { "a/b/c/d/e.md": v2("e", "e", "v") }, codes: [] },
  { name: "a flat skill", change: { "skills/x.md": "x" }, codes: ["skills.flat"] },
  { name: "changing the config", change: { ".memfs.config.json": config({}) }, codes: ["config.protected"] },
];

const HOOK_POLICY: Record<MemoryPolicy, HookPolicy> = { memfs: "root-marker", "shared-memory": "shared-memory" };

const scratch = tempDir("stategit-letta-hook-");
afterAll(() => scratch.cleanup());
const found = lettaCodeBundle();
const unavailable = "error" in found ? `Letta Code's hook is unavailable: ${found.error}` : undefined;
/** Outside CI, a machine without the registry skips the comparison, saying why; CI fails. */
const skip = unavailable !== undefined && !process.env.CI;
if (skip) console.warn(`letta-hook.test.ts skipped: ${unavailable}`);
let installer = "";
beforeAll(() => {
  if (skip) return;
  if (unavailable !== undefined) throw new Error(unavailable);
  installer = writeHookInstaller((found as { bundle: string }).bundle, scratch.path);
});

function writeFiles(directory: string, files: Record<string, FileSpec | null>): void {
  for (const [path, spec] of Object.entries(files)) {
    const target = join(directory, path);
    rmSync(target, { force: true });
    if (spec === null) continue;
    mkdirSync(dirname(target), { recursive: true });
    if (typeof spec === "object" && !(spec instanceof Uint8Array) && spec.mode === 0o120000) {
      symlinkSync(String(spec.content), target);
      continue;
    }
    writeFileSync(target, typeof spec === "object" && !(spec instanceof Uint8Array) ? spec.content : spec);
    if (typeof spec === "object" && !(spec instanceof Uint8Array)) chmodSync(target, spec.mode & 0o777);
  }
}

/** The hook's verdict and stategit's codes for one case, on the same two trees. */
function judge(hookCase: HookCase, index: number): { hookAccepts: boolean; hookOutput: string; codes: string[] } {
  const repository = join(scratch.path, `case-${index}`);
  git(["init", "-q", "-b", "main", repository]);
  installHook(installer, repository, HOOK_POLICY[hookCase.policy ?? "memfs"]);
  let oldTree: string | undefined;
  if (hookCase.base) {
    writeFiles(repository, hookCase.base);
    git(["add", "-A"], { cwd: repository });
    git(["commit", "-q", "--no-verify", "-m", "base"], { cwd: repository });
    oldTree = gitText(["rev-parse", "HEAD^{tree}"], { cwd: repository });
  }
  writeFiles(repository, hookCase.change);
  git(["add", "-A"], { cwd: repository });
  const newTree = gitText(["write-tree"], { cwd: repository });
  const env = hookCase.approved ? { LETTA_MEMORY_CONSTRAINTS_UPDATE: "1" } : undefined;
  const commit = git(["commit", "-q", "-m", "change"], { cwd: repository, env, allowFailure: true });
  const problems = checkChanges({
    objects: repositoryObjects(repository),
    oldTree,
    newTree,
    policy: hookCase.policy ?? "memfs",
    isAdmin: hookCase.approved ?? false,
  });
  return { hookAccepts: commit.exitCode === 0, hookOutput: commit.stderr + new TextDecoder().decode(commit.stdout), codes: problems.map((problem) => problem.code) };
}

const TABLES: [string, HookCase[]][] = [
  ["memfs v1", V1_CASES],
  ["memfs v2", V2_CASES],
  ["shared-memory", SHARED_CASES.map((hookCase) => ({ ...hookCase, policy: "shared-memory" }))],
];

let caseIndex = 0;
for (const [title, cases] of TABLES) {
  describe.skipIf(skip)(`Letta Code's hook and stategit agree: ${title}`, () => {
    for (const hookCase of cases) {
      const index = caseIndex++;
      test(hookCase.name, () => {
        const { hookAccepts, hookOutput, codes } = judge(hookCase, index);
        expect(codes.sort()).toEqual([...hookCase.codes].sort());
        const hookShouldAccept = hookCase.codes.length === 0 ? !hookCase.fixForward : Boolean(hookCase.stricter);
        if (hookAccepts !== hookShouldAccept) throw new Error(`the hook ${hookAccepts ? "accepted" : "refused"} it:\n${hookOutput}`);
      });
    }
  });
}

/** Pieces of front matter lines where the hook's reading has corners: spacing, quotes, empties, repeats. */
const KEYS = ["name", "description", "read_only", "limit", "mood", " description", "desc ription", "name ", ""];
const SEPARATORS = [": ", ":", " : ", ":\t", ""];
const VALUES = ["x", "", '""', "''", " y ", "a: b", "true", "#"];
const INDENTS = ["", "", "", " ", "\t"];
const RANDOM_CASES = 12;

/** Valid front matter with random lines added and its own lines' spacing and values changed. */
function randomFrontMatter(random: () => number, format: "v1" | "v2"): string {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const valid = format === "v1" ? ["description: d"] : ["name: n", "description: d"];
  const lines = valid.map((line) => (random() < 0.3 ? `${pick(INDENTS)}${line.split(":")[0]}${pick(SEPARATORS)}${pick(VALUES)}` : line));
  for (let extra = Math.floor(random() * 3); extra > 0; extra--) {
    lines.splice(Math.floor(random() * (lines.length + 1)), 0, `${pick(INDENTS)}${pick(KEYS)}${pick(SEPARATORS)}${pick(VALUES)}`);
  }
  return `---\n${lines.join("\n")}\n---\nvalue\n`;
}

describe.skipIf(skip)("Letta Code's hook and stategit agree on random front matter", () => {
  for (const [title, format, policy, base, path, seed] of [
    ["v1", "v1", "memfs", undefined, "system/random.md", 101],
    ["v2", "v2", "memfs", V2_BASE, "random.md", 202],
    ["shared-memory", "v2", "shared-memory", undefined, "docs/random.md", 303],
  ] as const) {
    test(title, () => {
      const random = seededRandom(seed);
      const verdicts = new Set<boolean>();
      for (let i = 0; i < RANDOM_CASES; i++) {
        const content = randomFrontMatter(random, format);
        const { hookAccepts, hookOutput, codes } = judge({ name: content, policy, base, change: { [path]: content }, codes: [] }, caseIndex++);
        if (hookAccepts !== (codes.length === 0)) throw new Error(`verdicts differ on ${JSON.stringify(content)}: stategit ${JSON.stringify(codes)}, the hook:\n${hookOutput}`);
        verdicts.add(hookAccepts);
      }
      expect([...verdicts].sort()).toEqual([false, true]);
    });
  }
});
