import type { PackLimits } from "../git/pack/types.ts";
import { Accounts } from "../db/accounts.ts";
import type { MemoryRulesConfig } from "../blocks/push-check.ts";
import { MemoryMirror } from "../db/mirror.ts";
import { Sessions } from "../db/sessions.ts";
import { DEFAULT_RETENTION, EventLog } from "../db/events.ts";
import { deploymentRepositories } from "../db/repositories.ts";
import { SharedRepositories } from "../db/shared-repositories.ts";
import { WebhookStore } from "../db/webhooks.ts";
import { openEventTransport } from "../events/open.ts";
import { EventStreams } from "../events/streams.ts";
import { WebhookDeliverer } from "../events/webhooks.ts";
import { openDatabase, redactDatabaseUrl } from "../db/open.ts";
import { DEFAULT_COMPACTION } from "../repo/repository.ts";
import { openStore } from "../storage/open.ts";
import { COMMIT, VERSION } from "../version.ts";
import { createApp } from "./app.ts";
import { gitTargets } from "./git-targets.ts";
import { timeCalls } from "./call-timing.ts";
import { listen, type TlsFiles } from "./listener.ts";
import { createLogger, type LogLevel } from "./logger.ts";
import { MemoryApi } from "./memory-api.ts";
import { Metrics } from "./metrics.ts";
import { shutDown } from "./shutdown.ts";
import { WriteGate } from "./write-gate.ts";
import { PackWorkers } from "../workers/pack-workers.ts";

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
  /** Worker threads for the CPU-heavy work; 0 runs it on the request thread. */
  workers: number;
  /** Heavy jobs that may wait for a busy worker. */
  workerQueue: number;
  memory: MemoryRulesConfig;
  /** Compaction's grace period (CompactionOptions.gracePeriodMs). */
  gracePeriodMs: number;
  limits: ServeLimits;
  logLevel: LogLevel;
  shutdownTimeoutMs: number;
  events: EventsConfig;
  /** HTTPS instead of HTTP: the files are read at start and on SIGHUP. */
  tls?: TlsFiles;
}

/** `--event-retention`, `--event-heartbeat`, `--webhook-retry-for`, in ms. */
export interface EventsConfig {
  retentionMs: number;
  heartbeatMs: number;
  webhookRetryForMs: number;
}

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

/** Bun's own ceiling on request bodies; ours (after gzip) is checked while reading. */
const BODY_SIZE_MARGIN = 1024 * 1024;
/** How often events older than the retention are pruned (each instance does; the second finds nothing). */
const EVENT_PRUNE_INTERVAL_MS = 60_000;

/**
 * Wires storage, database, repositories and the HTTP app, and listens. Resolves once listening.
 * SIGINT/SIGTERM shut down (see shutDown) and exit 0; SIGHUP re-reads the TLS certificate.
 */
export async function startServer(config: ServeConfig): Promise<RunningServer> {
  const logger = createLogger(config.logLevel);
  // Buffered lines must not be lost when the process ends some other way than stop().
  process.on("exit", () => logger.flush());
  // A promise nobody awaits that fails (postgres.js rejects some of its own queries when PostgreSQL
  // terminates a connection) would end the process, and with it every other request: it is logged.
  process.on("unhandledRejection", (reason) => logger.log("error", "unhandled promise rejection", { error: (reason as Error)?.stack ?? String(reason) }));
  const metrics = new Metrics({ version: VERSION, commit: COMMIT });
  const gate = new WriteGate();
  const db = gate.guard(timeCalls(await openDatabase(config.databaseUrl), metrics.databaseCalls), ["transaction", "execute"]);
  const accounts = new Accounts(db);
  const store = gate.guard(timeCalls(openStore(config.storageUrl), metrics.storageCalls), ["createOnly", "delete"]);
  const workers =
    config.workers > 0
      ? new PackWorkers({ size: config.workers, queueLimit: config.workerQueue, heldBytesPerWorker: Math.ceil(config.cacheBytes / config.workers), observer: metrics.workerPool })
      : undefined;
  const logError = (what: string) => (error: unknown) => logger.log("error", what, { error: (error as Error).stack ?? String(error) });
  const eventLog = new EventLog(db, { ...DEFAULT_RETENTION, maxAgeMs: config.events.retentionMs });
  const eventTransport = await openEventTransport(config.databaseUrl, eventLog, { onError: logError("polling for change events failed") });
  const eventStreams = new EventStreams(eventLog, eventTransport);
  const pruning = setInterval(() => eventLog.pruneOld().catch(logError("pruning change events failed")), EVENT_PRUNE_INTERVAL_MS);
  pruning.unref();
  const webhooks = new WebhookDeliverer(new WebhookStore(db), {
    retryForMs: config.events.webhookRetryForMs,
    userAgent: `stategit/${VERSION}`,
    metrics: metrics.webhooks,
    onError: logError("webhook delivery failed"),
  });
  const repositories = deploymentRepositories(db, store, config.memory.blockLayout, {
    eventTransport,
    eventLog,
    cacheBytes: config.cacheBytes,
    packWork: workers,
    compaction: { ...DEFAULT_COMPACTION, gracePeriodMs: config.gracePeriodMs },
    onBackgroundError: logError("background work failed"),
    metrics: metrics.repositoryCache,
  });
  const shared = new SharedRepositories(db);
  const mirror = new MemoryMirror(db);
  const events = { streams: eventStreams, heartbeatMs: config.events.heartbeatMs };
  const app = createApp({
    accounts,
    trustOrgHeader: config.trustOrgHeader,
    maxBodyBytes: config.limits.maxBodyBytes,
    memoryApi: new MemoryApi({ repositories, shared, mirror, memory: config.memory }),
    events,
    ui: { accounts, sessions: new Sessions(db), repositories, shared, mirror, blockLayout: config.memory.blockLayout, events },
    repositories: gitTargets({ repositories, shared, memory: config.memory, allowForcePush: config.allowForcePush, limits: config.limits }),
    logger,
    metrics,
    offload: workers?.writePack,
    readinessChecks: [
      { name: "database", check: async () => void (await db.query("SELECT 1")) },
      { name: "storage", check: () => store.ping() },
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
  webhooks.start(eventTransport);
  logger.log("info", "started", { version: VERSION, commit: COMMIT, storage: config.storageUrl, database: redactDatabaseUrl(config.databaseUrl), url: listener.url });
  // Whoever waits for the listening line may read the log next: the start's lines are in it by then.
  logger.flush();
  process.stdout.write(`stategit listening on ${listener.url}\n`);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // Event streams never end by themselves: end them, so that draining waits only for real requests.
      eventStreams.close();
      clearInterval(pruning);
      await webhooks.stop();
      await shutDown({ listener, gate, timeoutMs: config.shutdownTimeoutMs, logger, idle: () => repositories.idle() });
      workers?.close();
      await eventTransport.close();
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
