import type { CheckContext, RuleFormat } from "./context.ts";

/** One thing wrong with one path; its message is the `remote:` line and the API's 422 entry. */
export interface Problem {
  path: string;
  /** The rule's stable code, e.g. "frontmatter.required-key". */
  code: string;
  /** `path: reason`. */
  message: string;
}

export interface Finding {
  path: string;
  reason: string;
}

export interface BlockRule {
  /** Stable, machine-readable; never reused for another rule. */
  code: string;
  /** Where the rule comes from: Letta Code's hook (file, check) or stategit's Contract. */
  source: string;
  formats: readonly RuleFormat[];
  /** An `--admin` key may break it (read-only protection, the config). */
  adminMayOverride?: boolean;
  check(context: CheckContext): Finding[];
}

export const ALL_FORMATS: readonly RuleFormat[] = ["v1", "v2", "shared"];
/** Formats with v2 front matter (name and description, flat lines, MEMORY.md indexes). */
export const V2_FORMATS: readonly RuleFormat[] = ["v2", "shared"];
