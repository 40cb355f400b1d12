/**
 * The memory rules as a check of pushes and API writes (DESIGN.md, Contract, "Blocks"): only
 * updates of the default branch are checked, against what they change.
 */
import { MissingObjectError } from "../git/errors.ts";
import { commitTreeAndParents, type ObjectReader } from "../git/object/index.ts";
import { ZERO_OID, type Oid } from "../git/oid.ts";
import type { RefUpdate } from "../git/refname.ts";
import type { UpdateCheck, UpdateVerdict } from "../repo/push.ts";
import { sharedRepositoryId, type RepositoryName } from "../repo/layout.ts";
import type { Snapshot } from "../repo/snapshot.ts";
import type { BlockLayout } from "./layout.ts";
import { checkChanges, refuses, type BlockPolicy, type MemoryPolicy, type Problem } from "./rules/index.ts";

/** How a server applies the memory rules: `--block-layout`, `--block-policy`, `--system-token-budget`. */
export interface MemoryRulesConfig {
  blockLayout: BlockLayout;
  blockPolicy: BlockPolicy;
  systemTokenBudget?: number;
}

/** The policy Letta Code checks a repository with: `shared-memory` for a shared repository, `memfs` for an agent's own. */
export function memoryPolicyOf(repo: RepositoryName): MemoryPolicy {
  return sharedRepositoryId(repo) === undefined ? "memfs" : "shared-memory";
}

/** The tree of a commit, or undefined for the zero id (a branch created or deleted). */
export function commitTree(objects: ObjectReader, commit: Oid): Oid | undefined {
  if (commit === ZERO_OID) return undefined;
  const object = objects.readObject(commit);
  if (!object) throw new MissingObjectError(commit);
  return commitTreeAndParents(object.data).tree;
}

/** The problems an update of the default branch has under the rules (none for other refs). */
export function memoryProblems(
  config: MemoryRulesConfig,
  policy: MemoryPolicy,
  objects: ObjectReader,
  snapshot: Snapshot,
  update: RefUpdate,
  isAdmin: boolean,
): Problem[] {
  if (update.ref !== snapshot.head || update.newOid === ZERO_OID) return [];
  return checkChanges({
    objects,
    oldTree: commitTree(objects, snapshot.refs.get(update.ref) ?? ZERO_OID),
    newTree: commitTree(objects, update.newOid),
    policy,
    blockLayout: config.blockLayout,
    blockPolicy: config.blockPolicy,
    isAdmin,
    systemTokenBudget: config.systemTokenBudget,
  });
}

/** What a push is told of `problems`: refused under `strict` with one line each, warned of under `warn`. */
export function memoryVerdict(policy: BlockPolicy, problems: readonly Problem[]): UpdateVerdict | undefined {
  if (problems.length === 0) return undefined;
  if (!refuses(policy, problems)) return { messages: problems.map(({ message }) => `warning: ${message}`) };
  const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
  return { refusal: `refused by the memory rules (${count})`, messages: problems.map(({ message }) => message) };
}

/** The push check of one pusher (an `--admin` key may change read-only memory and the configuration). */
export function memoryRulesCheck(config: MemoryRulesConfig, policy: MemoryPolicy, isAdmin: boolean): UpdateCheck {
  return (update, objects, snapshot) => memoryVerdict(config.blockPolicy, memoryProblems(config, policy, objects, snapshot, update, isAdmin));
}
