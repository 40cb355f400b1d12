import { memoryPolicyOf, memoryRulesCheck, type MemoryRulesConfig } from "../blocks/push-check.ts";
import type { SharedRepositories } from "../db/shared-repositories.ts";
import type { PackLimits } from "../git/pack/types.ts";
import type { RepositoryName } from "../repo/layout.ts";
import type { Repositories } from "../repo/repository.ts";
import type { Snapshot } from "../repo/snapshot.ts";
import type { GitRepositories, GitTarget } from "./git-routes.ts";

export interface GitTargetsOptions {
  repositories: Repositories;
  shared: SharedRepositories;
  memory: MemoryRulesConfig;
  allowForcePush?: boolean;
  limits?: PackLimits;
}

/**
 * The repositories the git routes serve: an agent's own memory, checked with Letta's `memfs`
 * policy, and the shared repositories attached to it, checked with `shared-memory`. Resolving a
 * shared repository is one statement that also reads its manifest generation, so it costs the
 * request no more database reads than an agent's own memory.
 */
export function gitTargets(options: GitTargetsOptions): GitRepositories {
  const { repositories, shared, memory, allowForcePush, limits } = options;
  const target = (org: string, repo: RepositoryName, snapshot: () => Promise<Snapshot>): GitTarget => ({
    snapshot,
    push: (request, { admin }) =>
      repositories.push(org, repo, { ...request, allowForcePush, limits, checkUpdate: memoryRulesCheck(memory, memoryPolicyOf(repo), admin) }),
  });
  return {
    resolve: (org, { agent, shared: name }) => {
      if (name === undefined) return target(org, agent, () => repositories.snapshot(org, agent));
      return shared.resolveAttached(org, agent, name).then(
        (attached) => attached && target(org, attached.repo, () => repositories.snapshotAt(org, attached.repo, attached.generation)),
      );
    },
  };
}
