/**
 * What the rules look at: the format the change is checked under, the files it changed or
 * affected, and the limits that apply, all read lazily from the two trees.
 */
import type { ObjectReader } from "../../git/object/index.ts";
import type { Oid } from "../../git/oid.ts";
import { changedFiles, isRegularFile, isSubmodule, TreeFiles, type FileChange, type FileVersion } from "../changes.ts";
import { decodeText, frontMatterKeys, splitFrontMatter, type FrontMatter, type FrontMatterKey, type KeyStyle } from "../front-matter.ts";
import { INDEX_FILE, isIndexed, isIndexPath, isMarkdown, type BlockLayout, type MemoryPolicy } from "../layout.ts";

export type { MemoryPolicy };
import { CONFIG_PATH, constraintsOf, DEFAULT_MEMFS_CONFIG, parseMemfsConfig, type Constraints, type MemfsConfig } from "../memfs-config.ts";

/** The rule set a change is checked with. */
export type RuleFormat = "v1" | "v2" | "shared";

export interface CheckInput {
  objects: ObjectReader;
  /** The tree of `main`'s tip before the change; undefined when `main` did not exist. */
  oldTree: Oid | undefined;
  /** The tree after it; undefined when `main` is deleted (nothing to check). */
  newTree: Oid | undefined;
  policy?: MemoryPolicy;
  /** `seed` repositories have no rules. */
  blockLayout?: BlockLayout;
  /** A key created with `stategit key create ORG --admin`: may change read-only files and the config. */
  isAdmin?: boolean;
  /** `--system-token-budget N`: v1 `system/` files must total fewer than N estimated tokens. */
  systemTokenBudget?: number;
  /** The changes between the trees, when the caller has them already (from changedFiles). */
  changes?: readonly FileChange[];
}

/** A file of the new tree that the rules look at. */
export interface CheckedFile {
  readonly path: string;
  readonly version: FileVersion;
  /** The version at the same path in the old tree. */
  readonly previous?: FileVersion;
  /** Added unchanged from a path the change deletes: git's exact rename. */
  readonly exactRename: boolean;
  text(): string;
  previousText(): string | undefined;
  frontMatter(): FrontMatter;
  /** The front matter's key lines as the hook reads them in this format; [] without front matter. */
  keys(): FrontMatterKey[];
}

export interface CheckContext {
  readonly format: RuleFormat;
  readonly isAdmin: boolean;
  readonly systemTokenBudget?: number;
  readonly old: TreeFiles;
  readonly new: TreeFiles;
  readonly changes: readonly FileChange[];
  /** Files the change adds or modifies (submodules aside: they have no content). */
  readonly changed: readonly CheckedFile[];
  /** Submodule entries the change adds or modifies. */
  readonly submodules: readonly string[];
  /**
   * Files whose verdict the change can alter: the changed ones, plus every file when the format
   * or the config changes, plus the files below a v2 index the change deletes.
   */
  readonly affected: readonly CheckedFile[];
  /** The limits, when the hook would check them (v2, or a valid config in the new tree); else undefined. */
  readonly constraints?: Constraints;
  readonly configChange?: FileChange;
  /** Why the new config is invalid, when the change writes an invalid one. */
  readonly configProblems: readonly string[];
}

/** The hook's v1 file pattern, for front matter and limits alike. */
const V1_MEMORY_PATH = /^(?:memory\/)?(?:system|reference)\/.*\.md$/;

function hasRootIndex(tree: TreeFiles): boolean {
  return tree.has(INDEX_FILE);
}

/**
 * The hook checks v2 rules under the root-marker policy when the staged tree or HEAD holds a
 * root MEMORY.md: a change that deletes it is still checked as v2 (and refused for it).
 */
function ruleFormat(policy: MemoryPolicy, old: TreeFiles, next: TreeFiles): RuleFormat {
  if (policy === "shared-memory") return "shared";
  return hasRootIndex(old) || hasRootIndex(next) ? "v2" : "v1";
}

function checkedFile(tree: TreeFiles, old: TreeFiles, path: string, version: FileVersion, format: RuleFormat, renamedFrom: ReadonlySet<Oid>): CheckedFile {
  const previous = old.file(path);
  const style: KeyStyle = format === "v1" ? "v1" : "v2";
  let text: string | undefined;
  let previousText: string | undefined;
  let frontMatter: FrontMatter | undefined;
  return {
    path,
    version,
    previous,
    exactRename: previous === undefined && renamedFrom.has(version.oid),
    text: () => (text ??= decodeText(tree.bytes(version))),
    previousText: () => (previous === undefined ? undefined : (previousText ??= decodeText(old.bytes(previous)))),
    frontMatter() {
      return (frontMatter ??= splitFrontMatter(this.text()));
    },
    keys() {
      const split = this.frontMatter();
      return split.kind === "present" ? frontMatterKeys(split.lines, style) : [];
    },
  };
}

/** The config's limits as the hook's validator applies them, or undefined when it would not run. */
function constraintsFor(format: RuleFormat, config: MemfsConfig | undefined): Constraints | undefined {
  // The root-marker policy merges the config over the defaults; shared-memory takes it alone.
  if (format === "v2") return constraintsOf({ ...DEFAULT_MEMFS_CONFIG, ...config });
  if (config === undefined) return undefined;
  return constraintsOf(format === "v1" ? { ...DEFAULT_MEMFS_CONFIG, ...config } : config);
}

function readConfig(tree: TreeFiles): { config?: MemfsConfig; problems: string[] } {
  const file = tree.file(CONFIG_PATH);
  if (!file) return { problems: [] };
  if (!isRegularFile(file)) return { problems: ["constraint config must be a regular file"] };
  const parsed = parseMemfsConfig(decodeText(tree.bytes(file)));
  return "config" in parsed ? { config: parsed.config, problems: [] } : { problems: parsed.problems };
}

export function buildContext(input: CheckInput & { newTree: Oid }): CheckContext {
  const old = new TreeFiles(input.objects, input.oldTree);
  const next = new TreeFiles(input.objects, input.newTree);
  const format = ruleFormat(input.policy ?? "memfs", old, next);
  const changes = input.changes ?? changedFiles(input.objects, input.oldTree, input.newTree);
  const renamedFrom = new Set(changes.filter((change) => change.old && !change.new).map((change) => (change.old as FileVersion).oid));
  const toChecked = (path: string, version: FileVersion) => checkedFile(next, old, path, version, format, renamedFrom);

  const written = changes.flatMap(({ path, new: version }) => (version ? [{ path, version }] : []));
  const changed = written.filter(({ version }) => !isSubmodule(version)).map(({ path, version }) => toChecked(path, version));
  const configChange = changes.find((change) => change.path === CONFIG_PATH);
  const { config, problems } = readConfig(next);
  const formatSwitched = format === "v2" && !hasRootIndex(old) && old.root !== undefined;
  let affected = changed;
  if (formatSwitched || configChange) {
    affected = next
      .files()
      .filter(({ version }) => !isSubmodule(version))
      .map(({ path, version }) => toChecked(path, version));
  } else if (format === "v2") {
    const below = new Map<string, FileVersion>();
    for (const change of changes) {
      if (!change.old || change.new || !isIndexPath(change.path) || change.path === INDEX_FILE) continue;
      for (const { path, version } of next.files(change.path.slice(0, -INDEX_FILE.length - 1))) if (!isSubmodule(version)) below.set(path, version);
    }
    for (const file of changed) below.delete(file.path);
    affected = [...changed, ...[...below].map(([path, version]) => toChecked(path, version))];
  }
  return {
    format,
    isAdmin: input.isAdmin ?? false,
    systemTokenBudget: input.systemTokenBudget,
    old,
    new: next,
    changes,
    changed,
    submodules: written.filter(({ version }) => isSubmodule(version)).map(({ path }) => path),
    affected,
    constraints: constraintsFor(format, config),
    configChange,
    configProblems: configChange ? problems : [],
  };
}

/** Files the hook checks front matter of: v1 by pattern; v2 `.md` outside `skills/` whose indexes exist; shared every `.md` outside `skills/`. */
export function inFrontMatterScope(context: CheckContext, path: string): boolean {
  switch (context.format) {
    case "v1":
      return V1_MEMORY_PATH.test(path);
    case "v2":
      return isMarkdown(path) && !path.startsWith("skills/") && isIndexed(path, (index) => context.new.has(index));
    case "shared":
      return isMarkdown(path) && !path.startsWith("skills/");
  }
}

/** Files the hook's limits apply to (its validator's `memoryFiles`). */
export function inConstraintScope(context: CheckContext, path: string): boolean {
  return context.format === "v1" ? V1_MEMORY_PATH.test(path) : isMarkdown(path) && !path.startsWith("skills/");
}
