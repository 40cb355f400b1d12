/**
 * Step 3 of the memory pipeline: the rule table, checked on every push to `main` and every API
 * write. Each rule names the formats it belongs to, so one table expresses Letta's policies:
 * `memfs` checks v1 or v2 (chosen by the trees), `shared-memory` checks "shared" (v2 front matter
 * over every `.md`, no indexes, no core-memory total, limits only from a config).
 */
import { buildContext, type CheckInput } from "./context.ts";
import { FRONT_MATTER_RULES } from "./front-matter.ts";
import { READ_ONLY_RULES } from "./read-only.ts";
import type { BlockRule, Problem } from "./rule.ts";
import { TREE_RULES } from "./tree.ts";

export type { CheckInput, MemoryPolicy, RuleFormat } from "./context.ts";
export type { BlockRule, Problem } from "./rule.ts";
export { estimatedTokens } from "./tree.ts";

export const BLOCK_RULES: readonly BlockRule[] = [...FRONT_MATTER_RULES, ...READ_ONLY_RULES, ...TREE_RULES];

/** `--block-policy`: refuse on problems, only warn about them, or skip the rules. */
export type BlockPolicy = "strict" | "warn" | "off";

/**
 * Every problem a change to `main` has, all at once, in table order. Seed repositories, deleted
 * branches and `--block-policy off` have none. Throws the engine's errors when an object the
 * trees name is missing or corrupt.
 */
export function checkChanges(input: CheckInput & { blockPolicy?: BlockPolicy }): Problem[] {
  if (input.blockLayout === "seed" || input.newTree === undefined || input.blockPolicy === "off") return [];
  const context = buildContext({ ...input, newTree: input.newTree });
  return BLOCK_RULES.filter((rule) => rule.formats.includes(context.format) && !(rule.adminMayOverride && context.isAdmin)).flatMap((rule) =>
    rule.check(context).map(({ path, reason }) => ({ path, code: rule.code, message: `${path}: ${reason}` })),
  );
}

/** True when `problems` must refuse the write under `policy` (`warn` reports them and accepts). */
export function refuses(policy: BlockPolicy, problems: readonly Problem[]): boolean {
  return policy === "strict" && problems.length > 0;
}
