import type { PackLimits } from "../git/pack/types.ts";
import { Accounts } from "../db/accounts.ts";
import { memoryRulesCheck, type MemoryRulesConfig } from "../blocks/push-check.ts";
import { ManifestStore } from "../db/manifests.ts";
import { MemoryMirror, mirrorInTransaction } from "../db/mirror.ts";
import { openDatabase, redactDatabaseUrl } from "../db/open.ts";
import { DEFAULT_COMPACTION, Repositories } from "../repo/repository.ts";
import { openStore } from "../storage/open.ts";
import { createApp } from "./app.ts";
import { MemoryApi } from "./memory-api.ts";

export interface ServeLimits extends PackLimits {
  maxBodyBytes: number;
}

/** What `stategit serve` hands to startServer, validated. */
export interface ServeConfig {
  listen: { hostname: string; port: number };
  /** A URL parseStoreUrl accepts. */
  storageUrl: string;
  /** A URL parseDatabaseUrl accepts. */
  databaseUrl: string;
  trustOrgHeader: boolean;
  allowForcePush: boolean;
  cacheBytes: number;
  memory: MemoryRulesConfig;
  /** Compaction's grace period (CompactionOptions.gracePeriodMs). */
  gracePeriodMs: number;
  limits: ServeLimits;
}

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

/** Bun's own ceiling on request bodies; ours (after gzip) is checked while reading. */
const BODY_SIZE_MARGIN = 1024 * 1024;

/**
 * Wires storage, database, repositories and the HTTP app, and listens. Resolves once listening;
 * SIGINT/SIGTERM stop accepting, let requests in flight finish, and close the database.
 */
export async function startServer(config: ServeConfig): Promise<RunningServer> {
  const db = await openDatabase(config.databaseUrl);
  const accounts = new Accounts(db);
  const store = openStore(config.storageUrl);
  const mirror = new MemoryMirror(db);
  const repositories = new Repositories(store, new ManifestStore(db), {
    cacheBytes: config.cacheBytes,
    inTransaction: mirrorInTransaction(mirror, config.memory.blockLayout),
    compaction: { ...DEFAULT_COMPACTION, gracePeriodMs: config.gracePeriodMs },
    // The agent registry (`stategit agent list`) learns of an agent with its first committed write.
    onCommit: async ({ org, agent }) => {
      await accounts.registerAgent(org, agent);
    },
    onBackgroundError: (error) => process.stderr.write(`stategit: background work failed: ${(error as Error).stack ?? error}\n`),
  });
  const app = createApp({
    accounts,
    trustOrgHeader: config.trustOrgHeader,
    maxBodyBytes: config.limits.maxBodyBytes,
    memoryApi: new MemoryApi({ repositories, mirror, memory: config.memory }),
    repositories: {
      snapshot: (org, agent) => repositories.snapshot(org, agent),
      push: (org, agent, request, { admin }) =>
        repositories.push(org, agent, {
          ...request,
          allowForcePush: config.allowForcePush,
          limits: config.limits,
          checkUpdate: memoryRulesCheck(config.memory, "memfs", admin),
        }),
    },
  });
  const server = Bun.serve({
    hostname: config.listen.hostname,
    port: config.listen.port,
    fetch: app.fetch,
    maxRequestBodySize: config.limits.maxBodyBytes + BODY_SIZE_MARGIN,
    // Large clones stream for a while; idle sockets of keep-alive clients are closed after this.
    idleTimeout: 255,
  });
  if (config.trustOrgHeader) {
    process.stderr.write("stategit: warning: --trust-org-header is on: requests without credentials may name any organisation in X-Organization-Id; use only behind a trusted proxy\n");
  }
  const url = server.url.href.replace(/\/$/, "");
  process.stderr.write(`stategit: storage ${config.storageUrl}, database ${redactDatabaseUrl(config.databaseUrl)}\n`);
  process.stdout.write(`stategit listening on ${url}\n`);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await server.stop();
      await repositories.idle();
      await db.close();
    })();
    return stopping;
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
  return { url, stop };
}
