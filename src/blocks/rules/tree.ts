/**
 * Rules about paths, sizes and the config, as Letta Code's hook checks them: the pre-commit
 * script (flat skills) and its constraints validator, letta-memory-constraints.cjs
 * (src/memory-constraints.ts, validateMemoryTreeConstraints), which checks the whole tree on every
 * commit; stategit checks the files the change affects.
 */
import { isRegularFile, isSubmodule } from "../changes.ts";
import { firstMissingIndex, INDEX_FILE, isMarkdown } from "../layout.ts";
import { countCharacters, decodeText } from "../front-matter.ts";
import { CONFIG_PATH } from "../memfs-config.ts";
import { inConstraintScope, inFrontMatterScope, type CheckContext, type CheckedFile } from "./context.ts";
import { ALL_FORMATS, type BlockRule, type Finding } from "./rule.ts";

const HOOK_SCRIPT = "Letta Code pre-commit hook (script)";
const VALIDATOR = "Letta Code pre-commit hook, validateMemoryTreeConstraints";

/** The hook's flat-skill patterns: v1 also catches the older `memory/` prefix. */
const FLAT_SKILL = { v1: /^(?:memory\/)?skills\/[^/]+\.md$/, v2: /^skills\/[^/]+\.md$/ };

/** Affected memory files the validator counts: regular files in its scope, when it runs. */
function constrainedFiles(context: CheckContext): CheckedFile[] {
  if (!context.constraints) return [];
  return context.affected.filter((file) => inConstraintScope(context, file.path) && isRegularFile(file.version));
}

function isRootMarkdown(path: string): boolean {
  return isMarkdown(path) && !path.includes("/");
}

/** ceil(UTF-8 bytes / 4): the token estimate of `--system-token-budget`. */
export function estimatedTokens(bytes: number): number {
  return Math.ceil(bytes / 4);
}

export const TREE_RULES: readonly BlockRule[] = [
  {
    code: "skills.flat",
    source: HOOK_SCRIPT,
    formats: ALL_FORMATS,
    check: (context) =>
      context.changes
        .filter((change) => change.new && FLAT_SKILL[context.format === "v1" ? "v1" : "v2"].test(change.path))
        .map(({ path }) => ({ path, reason: "invalid skill path (skills must be folders). Use skills/<name>/SKILL.md" })),
  },
  {
    code: "index.root-required",
    source: VALIDATOR,
    formats: ["v2"],
    check: (context) => (context.new.has(INDEX_FILE) ? [] : [{ path: INDEX_FILE, reason: "root memory index is required for MemFS v2" }]),
  },
  {
    code: "index.missing",
    source: VALIDATOR,
    formats: ["v2"],
    check: (context) =>
      context.affected
        .filter((file) => inConstraintScope(context, file.path))
        .flatMap((file) => {
          const missing = firstMissingIndex(file.path, (index) => context.new.has(index));
          return missing ? [{ path: file.path, reason: `missing required index ${missing}` }] : [];
        }),
  },
  {
    code: "file.not-regular",
    source: VALIDATOR,
    formats: ALL_FORMATS,
    // The validator refuses symlinks; a submodule fails the hook everywhere it reads memory files.
    check: (context) =>
      [
        ...(context.constraints ? context.affected.filter((file) => inConstraintScope(context, file.path) && !isRegularFile(file.version)).map(({ path }) => path) : []),
        ...context.submodules.filter((path) => inFrontMatterScope(context, path) || inConstraintScope(context, path)),
      ].map((path) => ({ path, reason: "memory Markdown must be a regular file" })),
  },
  {
    code: "depth.exceeded",
    source: VALIDATOR,
    formats: ALL_FORMATS,
    check: (context) => {
      const maxDepth = context.constraints?.maxDepth;
      if (maxDepth === undefined) return [];
      return constrainedFiles(context).flatMap((file) => {
        const depth = file.path.split("/").length - 1;
        return depth > maxDepth ? [{ path: file.path, reason: `depth ${depth} exceeds maxDepth ${maxDepth}` }] : [];
      });
    },
  },
  {
    code: "characters.file",
    source: VALIDATOR,
    formats: ALL_FORMATS,
    check: (context) =>
      constrainedFiles(context).flatMap((file) => {
        const { limit, source } = context.constraints?.fileLimit(file.path) ?? {};
        if (limit === undefined) return [];
        const characters = countCharacters(file.text());
        return characters > limit ? [{ path: file.path, reason: `${characters} characters exceeds ${limit} from ${source}` }] : [];
      }),
  },
  {
    code: "characters.core",
    source: VALIDATOR,
    formats: ["v2"],
    check: (context) => {
      const max = context.constraints?.maxCoreMemoryCharacters;
      if (max === undefined || !context.affected.some((file) => isRootMarkdown(file.path))) return [];
      const total = context.new
        .filesIn("")
        .filter(({ path, version }) => isRootMarkdown(path) && isRegularFile(version))
        .reduce((sum, { version }) => sum + countCharacters(decodeText(context.new.bytes(version))), 0);
      return total > max ? [{ path: "core memory", reason: `${total} characters exceeds ${max} from maxCoreMemoryCharacters` }] : [];
    },
  },
  {
    code: "config.protected",
    source: VALIDATOR,
    formats: ALL_FORMATS,
    adminMayOverride: true,
    check: (context) => (context.configChange ? [{ path: CONFIG_PATH, reason: "is protected: changing it needs an --admin key" }] : []),
  },
  {
    code: "config.invalid",
    source: VALIDATOR,
    formats: ALL_FORMATS,
    check: (context) => context.configProblems.map((reason) => ({ path: CONFIG_PATH, reason })),
  },
  {
    code: "tokens.system-budget",
    source: "stategit (DESIGN.md, Blocks): --system-token-budget",
    formats: ["v1"],
    check: (context): Finding[] => {
      const budget = context.systemTokenBudget;
      if (budget === undefined || !context.affected.some((file) => isSystemBlock(file.path))) return [];
      const total = context.new
        .files("system")
        .filter(({ path, version }) => isSystemBlock(path) && !isSubmodule(version))
        .reduce((sum, { version }) => sum + estimatedTokens(context.new.bytes(version).length), 0);
      return total >= budget ? [{ path: "system", reason: `${total} estimated tokens, the budget is fewer than ${budget}` }] : [];
    },
  },
];

function isSystemBlock(path: string): boolean {
  return path.startsWith("system/") && isMarkdown(path);
}
