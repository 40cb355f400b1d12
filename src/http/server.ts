import type { ServeConfig } from "../cli/config.ts";
import { Accounts } from "../db/accounts.ts";
import { openDatabase, redactDatabaseUrl } from "../db/open.ts";
import { Repositories } from "../repo/repository.ts";
import { openStore } from "../storage/open.ts";
import { COMMIT, VERSION } from "../version.ts";
import { createApp } from "./app.ts";
import { timeCalls } from "./call-timing.ts";
import { listen } from "./listener.ts";
import { createLogger } from "./logger.ts";
import { Metrics } from "./metrics.ts";
import { shutDown } from "./shutdown.ts";
import { WriteGate } from "./write-gate.ts";

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

/** Bun's own ceiling on request bodies; ours (after gzip) is checked while reading. */
const BODY_SIZE_MARGIN = 1024 * 1024;

/** A key no repository uses: reading its generation is a cheap round trip to storage. */
const STORAGE_PROBE_KEY = "readiness-probe";

/**
 * Wires storage, database, repositories and the HTTP app, and listens. Resolves once listening.
 * SIGINT/SIGTERM shut down (see shutDown) and exit 0; SIGHUP re-reads the TLS certificate.
 */
export async function startServer(config: ServeConfig): Promise<RunningServer> {
  const logger = createLogger(config.logLevel);
  // Buffered lines must not be lost when the process ends some other way than stop().
  process.on("exit", () => logger.flush());
  const metrics = new Metrics({ version: VERSION, commit: COMMIT });
  const gate = new WriteGate();
  const db = gate.guard(timeCalls(await openDatabase(config.databaseUrl), metrics.databaseCalls), ["transaction", "execute"]);
  const accounts = new Accounts(db);
  const store = gate.guard(timeCalls(openStore(config.storageUrl), metrics.storageCalls), ["createOnly", "compareAndSwap", "delete"]);
  const repositories = new Repositories(store, {
    // The agent registry (`stategit agent list`) learns of an agent with its first committed write.
    onCommit: async ({ org, agent }) => {
      await accounts.registerAgent(org, agent);
    },
    onBackgroundError: (error) => logger.log("error", "background work failed", { error: (error as Error).stack ?? String(error) }),
    metrics: metrics.repositoryCache,
  });
  const app = createApp({
    accounts,
    trustOrgHeader: config.trustOrgHeader,
    maxBodyBytes: config.limits.maxBodyBytes,
    repositories: {
      snapshot: (org, agent) => repositories.snapshot(org, agent),
      push: (org, agent, request) =>
        repositories.push(org, agent, { ...request, allowForcePush: config.allowForcePush, limits: config.limits }),
    },
    logger,
    metrics,
    readinessChecks: [
      { name: "database", check: async () => void (await db.query("SELECT 1")) },
      { name: "storage", check: async () => void (await store.generation(STORAGE_PROBE_KEY)) },
    ],
  });
  const listener = await listen({
    hostname: config.listen.hostname,
    port: config.listen.port,
    fetch: app.fetch,
    maxRequestBodySize: config.limits.maxBodyBytes + BODY_SIZE_MARGIN,
    tls: config.tls,
  });
  if (config.trustOrgHeader) {
    logger.log("warn", "--trust-org-header is on: requests without credentials may name any organisation in X-Organization-Id; use only behind a trusted proxy");
  }
  logger.log("info", "started", { version: VERSION, commit: COMMIT, storage: config.storageUrl, database: redactDatabaseUrl(config.databaseUrl), url: listener.url });
  // Whoever waits for the listening line may read the log next: the start's lines are in it by then.
  logger.flush();
  process.stdout.write(`stategit listening on ${listener.url}\n`);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await shutDown({ listener, gate, timeoutMs: config.shutdownTimeoutMs, logger, idle: () => repositories.idle() });
      await db.close();
      logger.log("info", "stopped");
      logger.flush();
    })();
    return stopping;
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
  process.on("SIGHUP", () => {
    try {
      listener.reloadTls();
      logger.log("info", "SIGHUP: TLS certificate and key re-read; new connections use them");
    } catch (error) {
      logger.log("error", "SIGHUP: TLS certificate and key not reloaded; still serving the previous ones", { error: (error as Error).message });
    }
  });
  return { url: listener.url, stop };
}
