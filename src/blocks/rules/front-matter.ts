/**
 * Front matter rules, as Letta Code's hook checks each memory file (its src/memory-frontmatter.ts,
 * validateMemoryFileFrontmatter; the pre-commit script chooses the files): v1 checks the files a
 * commit adds or modifies under `system/` and `reference/`, v2 and shared-memory check every
 * memory file (stategit: those the change affects).
 */
import { countCharacters, frontMatterFields } from "../front-matter.ts";
import { isIndexPath } from "../layout.ts";
import { inFrontMatterScope, type CheckContext, type CheckedFile } from "./context.ts";
import { V2_FORMATS, type BlockRule, type Finding } from "./rule.ts";

const HOOK = "Letta Code pre-commit hook, validateMemoryFileFrontmatter";

/**
 * The files whose front matter is checked. The hook's v1 list is `git diff --cached
 * --diff-filter=ACM`, which leaves out renames: exact renames are left out here too.
 */
export function frontMatterFiles(context: CheckContext): CheckedFile[] {
  if (context.format === "v1") return context.changed.filter((file) => !file.exactRename && inFrontMatterScope(context, file.path));
  return context.affected.filter((file) => inFrontMatterScope(context, file.path));
}

/** Files that must have front matter (v2 and shared-memory MEMORY.md indexes must not). */
function filesNeedingFrontMatter(context: CheckContext): CheckedFile[] {
  return frontMatterFiles(context).filter((file) => context.format === "v1" || !isIndexPath(file.path));
}

function allowedKeys(context: CheckContext): readonly string[] {
  return context.format === "v1" ? ["description", "read_only", "limit"] : ["name", "description"];
}

function requiredKeys(context: CheckContext): readonly string[] {
  return context.format === "v1" ? ["description"] : ["name", "description"];
}

/** One finding per file that must have front matter and whose front matter is of `kind`. */
function filesWithFrontMatter(context: CheckContext, kind: "none" | "unclosed", reason: string): Finding[] {
  return filesNeedingFrontMatter(context)
    .filter((file) => file.frontMatter().kind === kind)
    .map((file) => ({ path: file.path, reason }));
}

/** One finding per key line `select` picks, in files with front matter. */
function keyFindings(context: CheckContext, select: (key: string, value: string, seen: Set<string>) => string | undefined): Finding[] {
  const findings: Finding[] = [];
  for (const file of filesNeedingFrontMatter(context)) {
    const seen = new Set<string>();
    for (const { key, value } of file.keys()) {
      const reason = select(key, value, seen);
      if (reason) findings.push({ path: file.path, reason });
      seen.add(key);
    }
  }
  return findings;
}

export const FRONT_MATTER_RULES: readonly BlockRule[] = [
  {
    code: "frontmatter.missing",
    source: HOOK,
    formats: ["v1", "v2", "shared"],
    check: (context) => filesWithFrontMatter(context, "none", "missing frontmatter (must start with ---)"),
  },
  {
    code: "frontmatter.unclosed",
    source: HOOK,
    formats: ["v1", "v2", "shared"],
    check: (context) => filesWithFrontMatter(context, "unclosed", "frontmatter opened but never closed (missing closing ---)"),
  },
  {
    code: "frontmatter.in-index",
    source: HOOK,
    formats: V2_FORMATS,
    check: (context) =>
      frontMatterFiles(context)
        .filter((file) => isIndexPath(file.path) && file.frontMatter().kind !== "none")
        .map((file) => ({ path: file.path, reason: "MEMORY.md must not have frontmatter" })),
  },
  {
    code: "frontmatter.unknown-key",
    source: HOOK,
    formats: ["v1", "v2", "shared"],
    check: (context) => {
      const allowed = allowedKeys(context);
      return keyFindings(context, (key) => (allowed.includes(key) ? undefined : `unknown frontmatter key '${key}' (allowed: ${allowed.join(" ")})`));
    },
  },
  {
    code: "frontmatter.repeated-key",
    source: HOOK,
    formats: V2_FORMATS,
    check: (context) => {
      const allowed = allowedKeys(context);
      return keyFindings(context, (key, _, seen) => (allowed.includes(key) && seen.has(key) ? `duplicate frontmatter key '${key}'` : undefined));
    },
  },
  {
    code: "frontmatter.required-key",
    source: HOOK,
    formats: ["v1", "v2", "shared"],
    check: (context) =>
      filesNeedingFrontMatter(context)
        .filter((file) => file.frontMatter().kind === "present")
        .flatMap((file) => {
          const present = new Set(file.keys().map(({ key }) => key));
          return requiredKeys(context)
            .filter((key) => !present.has(key))
            .map((key) => ({ path: file.path, reason: `missing required field '${key}'` }));
        }),
  },
  {
    code: "frontmatter.empty-key",
    source: HOOK,
    formats: ["v1", "v2", "shared"],
    check: (context) => {
      const v2 = context.format !== "v1";
      const checked = v2 ? allowedKeys(context) : ["description"];
      // v2 also reads a quoted empty string as empty; v1 does not (the hook's asymmetry).
      const isEmpty = (value: string) => !value || (v2 && (value === '""' || value === "''"));
      return keyFindings(context, (key, value) => (checked.includes(key) && isEmpty(value) ? `'${key}' must not be empty` : undefined));
    },
  },
  {
    code: "limit.exceeded",
    source: "stategit (DESIGN.md, Blocks): v1 `limit` is the most characters of the value; the hook does not check it",
    formats: ["v1"],
    check: (context) =>
      filesNeedingFrontMatter(context).flatMap((file) => {
        const frontMatter = file.frontMatter();
        if (frontMatter.kind !== "present") return [];
        const limit = limitOf(frontMatterFields(frontMatter.lines, "v1").limit);
        const characters = countCharacters(frontMatter.body);
        return limit !== undefined && characters > limit ? [{ path: file.path, reason: `value has ${characters} characters, more than its limit ${limit}` }] : [];
      }),
  },
];

/** A `limit` that is a positive integer (a number or digits); anything else sets no limit, as in the hook. */
export function limitOf(value: unknown): number | undefined {
  const limit = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  return typeof limit === "number" && Number.isSafeInteger(limit) && limit > 0 ? limit : undefined;
}
