import type { BlockLayout } from "../blocks/layout.ts";
import { sharedRepositoryId } from "../repo/layout.ts";
import { Repositories, type RepositoriesOptions } from "../repo/repository.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { Accounts } from "./accounts.ts";
import type { SqlAdapter } from "./adapter.ts";
import { ManifestStore } from "./manifests.ts";
import { MemoryMirror, mirrorInTransaction } from "./mirror.ts";
import { whileSharedRepositoryExists } from "./shared-repositories.ts";

/**
 * The repositories of a deployment, wired as every writer must be (the server, `import`, the
 * maintenance commands): manifests in the database, the SQL mirror written in each commit's
 * transaction (which a shared repository's commit also checks the repository still exists in), and the agent registry told of an agent's first committed write to its own memory.
 */
export function deploymentRepositories(
  db: SqlAdapter,
  store: BlobStore,
  blockLayout: BlockLayout,
  options: Omit<RepositoriesOptions, "inTransaction" | "onCommit"> = {},
): Repositories {
  const accounts = new Accounts(db);
  return new Repositories(store, new ManifestStore(db), {
    ...options,
    inTransaction: whileSharedRepositoryExists(mirrorInTransaction(new MemoryMirror(db), blockLayout)),
    onCommit: async ({ org, repo }) => {
      // A shared repository belongs to no agent; its writers are registered by their own memory.
      if (sharedRepositoryId(repo) === undefined) await accounts.registerAgent(org, repo);
    },
  });
}
