/**
 * `.memfs.config.json`: the limits Letta Code's hook enforces (its src/memory-constraints.ts,
 * parseMemoryConstraintsConfig and validateMemoryTreeConstraints), read exactly as it reads them.
 */
export const CONFIG_PATH = ".memfs.config.json";

export interface FileCharacterLimit {
  /** A repository-relative glob: `*` and `?` stay inside a segment, `**` spans segments. */
  pattern: string;
  /** null: files matching the pattern have no limit. */
  maxCharacters: number | null;
}

export interface MemfsConfig {
  version: 1;
  maxDepth?: number;
  maxFileCharacters?: number;
  maxCoreMemoryCharacters?: number;
  fileCharacterLimits?: FileCharacterLimit[];
}

/** Letta Code's DEFAULT_MEMORY_CONSTRAINTS_CONFIG. */
export const DEFAULT_MEMFS_CONFIG: Readonly<MemfsConfig> = Object.freeze({
  version: 1,
  maxDepth: 2,
  maxFileCharacters: 20_000,
  maxCoreMemoryCharacters: 65_536,
});

const TOP_LEVEL_KEYS = new Set(["version", "maxDepth", "maxFileCharacters", "maxCoreMemoryCharacters", "fileCharacterLimits"]);

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isPositiveInteger(value: unknown): boolean {
  return Number.isSafeInteger(value) && Number(value) > 0;
}

function overrideProblems(override: unknown, index: number): string[] {
  const label = `fileCharacterLimits[${index}]`;
  if (!isObject(override)) return [`${label} must be an object`];
  const problems = Object.keys(override)
    .filter((key) => key !== "pattern" && key !== "maxCharacters")
    .map((key) => `${label}: unknown field '${key}'`);
  const { pattern } = override;
  if (typeof pattern !== "string" || pattern.length === 0 || pattern.startsWith("/") || pattern.includes("\\") || pattern.split("/").includes("..")) {
    problems.push(`${label}: pattern must be a non-empty repo-relative glob using '/'`);
  } else if (pattern.split("/").some((segment) => segment.includes("**") && segment !== "**")) {
    problems.push(`${label}: '**' must be a complete path segment`);
  }
  if (override.maxCharacters !== null && !isPositiveInteger(override.maxCharacters)) {
    problems.push(`${label}: maxCharacters must be a positive integer or null`);
  }
  return problems;
}

/** The config, or every reason it is invalid (the hook's messages, without its `.memfs.config.json: ` prefix). */
export function parseMemfsConfig(text: string): { config: MemfsConfig } | { problems: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problems: [`invalid JSON (${error instanceof Error ? error.message : String(error)})`] };
  }
  if (!isObject(value)) return { problems: ["expected a JSON object"] };
  const problems = Object.keys(value)
    .filter((key) => !TOP_LEVEL_KEYS.has(key))
    .map((key) => `unknown field '${key}'`);
  if (value.version !== 1) problems.push("version must be 1");
  if (value.maxDepth !== undefined && !(Number.isSafeInteger(value.maxDepth) && Number(value.maxDepth) >= 0)) {
    problems.push("maxDepth must be a non-negative integer");
  }
  for (const key of ["maxFileCharacters", "maxCoreMemoryCharacters"]) {
    if (value[key] !== undefined && !isPositiveInteger(value[key])) problems.push(`${key} must be a positive integer`);
  }
  const overrides = value.fileCharacterLimits;
  if (overrides !== undefined && !Array.isArray(overrides)) problems.push("fileCharacterLimits must be an array");
  if (Array.isArray(overrides)) overrides.forEach((override, index) => problems.push(...overrideProblems(override, index)));
  return problems.length > 0 ? { problems } : { config: value as unknown as MemfsConfig };
}

/** The hook's glob: `**\/` → any directories, `**` → anything, `*` → within a segment, `?` → one character. */
export function globToRegExp(pattern: string): RegExp {
  let source = "^";
  for (let i = 0; i < pattern.length; i++) {
    const character = pattern[i];
    if (character === "*") {
      if (pattern[i + 1] === "*") {
        if (pattern[i + 2] === "/") {
          source += "(?:.*/)?";
          i += 2;
        } else {
          source += ".*";
          i++;
        }
      } else {
        source += "[^/]*";
      }
    } else if (character === "?") {
      source += "[^/]";
    } else {
      source += "^$.*+?()[]{}|\\".includes(character) ? `\\${character}` : character;
    }
  }
  return new RegExp(`${source}$`);
}

/** The limits a repository's memory files are held to. */
export interface Constraints {
  maxDepth?: number;
  maxCoreMemoryCharacters?: number;
  /** The most characters of the file at `path` (undefined: no limit), and where that limit comes from. */
  fileLimit(path: string): { limit: number | undefined; source: string };
}

export function constraintsOf(config: MemfsConfig): Constraints {
  const overrides = (config.fileCharacterLimits ?? []).map((override) => ({ ...override, regex: globToRegExp(override.pattern) }));
  return {
    maxDepth: config.maxDepth,
    maxCoreMemoryCharacters: config.maxCoreMemoryCharacters,
    fileLimit(path) {
      const override = overrides.find(({ regex }) => regex.test(path));
      if (override) return { limit: override.maxCharacters ?? undefined, source: `glob '${override.pattern}'` };
      return { limit: config.maxFileCharacters, source: "maxFileCharacters" };
    },
  };
}
