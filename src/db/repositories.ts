import type { BlockLayout } from "../blocks/layout.ts";
import { eventsInTransaction } from "../events/record.ts";
import type { EventTransport } from "../events/transport.ts";
import { sharedRepositoryId } from "../repo/layout.ts";
import { Repositories, type RepositoriesOptions, type TransactionWork } from "../repo/repository.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { Accounts } from "./accounts.ts";
import type { SqlAdapter } from "./adapter.ts";
import { EventLog } from "./events.ts";
import { ManifestStore, type AlongsideCommit } from "./manifests.ts";
import { MemoryMirror, mirrorInTransaction } from "./mirror.ts";
import { whileSharedRepositoryExists } from "./shared-repositories.ts";

export interface DeploymentOptions extends Omit<RepositoriesOptions, "inTransaction" | "onCommit"> {
  /** This process's event subscribers, told of each commit as soon as it is made (the server's). */
  eventTransport?: EventTransport;
  /** The events table, when the caller has one configured (its retention); else the defaults. */
  eventLog?: EventLog;
}

/** Agents remembered as registered, at most (about 100 bytes each); past it the memory starts again. */
const MAX_REMEMBERED_AGENTS = 100_000;

/**
 * The repositories of a deployment, wired as every writer must be (the server, `import`, the
 * maintenance commands): manifests in the database, the SQL mirror and the change events written
 * in each commit's transaction (which a shared repository's commit also checks the repository
 * still exists in), and the agent registry told of an agent's first committed write to its own memory.
 */
export function deploymentRepositories(db: SqlAdapter, store: BlobStore, blockLayout: BlockLayout, options: DeploymentOptions = {}): Repositories {
  const { eventTransport, eventLog = new EventLog(db), ...repositoryOptions } = options;
  const accounts = new Accounts(db);
  // The registry only gains rows: an agent registered by this process needs no statements again.
  const registered = new Set<string>();
  const register = async (org: string, agent: string) => {
    const key = `${org}/${agent}`;
    if (registered.has(key)) return;
    await accounts.registerAgent(org, agent);
    if (registered.size >= MAX_REMEMBERED_AGENTS) registered.clear();
    registered.add(key);
  };
  return new Repositories(store, new ManifestStore(db), {
    ...repositoryOptions,
    inTransaction: whileSharedRepositoryExists(inOrder([mirrorInTransaction(new MemoryMirror(db), blockLayout), eventsInTransaction(eventLog, blockLayout)])),
    onCommit: async ({ org, repo, after }) => {
      eventTransport?.committed({ org, agent: repo, generation: after.manifest.generation });
      // A shared repository belongs to no agent; its writers are registered by their own memory.
      if (sharedRepositoryId(repo) === undefined) await register(org, repo);
    },
  });
}

/** Several pieces of transaction work, run one after the other in the same transaction. */
function inOrder(works: readonly TransactionWork[]): TransactionWork {
  return async (pending) => {
    const planned: AlongsideCommit[] = [];
    for (const work of works) {
      const alongside = await work(pending);
      if (alongside) planned.push(alongside);
    }
    if (planned.length === 0) return undefined;
    return async (tx) => {
      for (const alongside of planned) await alongside(tx);
    };
  };
}
