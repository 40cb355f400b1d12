import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { BlockLayout } from "../blocks/layout.ts";
import type { MemoryRulesConfig } from "../blocks/push-check.ts";
import { DEFAULT_PACK_LIMITS } from "../git/pack/types.ts";
import type { ServeConfig } from "../http/server.ts";
import { checkName } from "../names.ts";
import { sharedRepositoryName } from "../repo/layout.ts";
import { DEFAULT_CACHE_BYTES } from "../repo/repository.ts";
import { DATABASE_URL_FORMS, parseDatabaseUrl } from "../db/open.ts";
import { DEFAULT_RETENTION } from "../db/events.ts";
import type { TlsFiles } from "../http/listener.ts";
import { isLogLevel, LOG_LEVELS, type LogLevel } from "../http/logger.ts";
import { parseStoreUrl, STORE_URL_FORMS } from "../storage/open.ts";
import { Problems, usage, UsageError, type OptionSpec, type Options } from "./command.ts";

export const STORAGE_OPTION: OptionSpec = {
  name: "storage",
  env: "STATEGIT_STORAGE",
  value: "URL",
  default: "file:./data/repos",
  description: `where repositories are stored: ${STORE_URL_FORMS}`,
};

export const DATABASE_OPTION: OptionSpec = {
  name: "database",
  env: "STATEGIT_DATABASE_URL",
  value: "URL",
  default: "sqlite:./data/stategit.db",
  description: `organisations, keys, agents and the blocks mirror: ${DATABASE_URL_FORMS}`,
};

/** What every command that touches the data takes, so administration runs against the server's configuration. */
export const DATA_OPTIONS: readonly OptionSpec[] = [STORAGE_OPTION, DATABASE_OPTION];

/** How memory files map to blocks: what the server, `import` and `reindex` must agree on. */
export const BLOCK_LAYOUT_OPTION: OptionSpec = {
  name: "block-layout",
  env: "STATEGIT_BLOCK_LAYOUT",
  value: "letta|seed",
  default: "letta",
  description: "memory layout: Letta's memfs v1/v2 (chosen per repository), or seed's blocks/NAME.md",
};

export const GRACE_PERIOD_OPTION: OptionSpec = {
  name: "grace-period",
  env: "STATEGIT_GRACE_PERIOD",
  value: "DURATION",
  default: "1h",
  description: "how long compaction keeps pack files no manifest names and unreachable objects (e.g. 90m, 1h, 7d); database backups younger than this restore consistently",
};

/** `--org ORG --agent ID`: the repositories a maintenance command works on (all when omitted). */
export const SELECTION_OPTIONS: readonly OptionSpec[] = [
  { name: "org", value: "ORG", description: "only this organisation's repositories" },
  { name: "agent", value: "ID", description: "only this agent's repository (with --org, or in every organisation)" },
];

/** `--repository ID`: a shared repository instead of an agent's, for the commands that work on stored repositories. */
export const REPOSITORY_OPTION: OptionSpec = { name: "repository", value: "ID", description: "only this shared repository (its id; instead of --agent)" };

export const SERVE_OPTIONS: readonly OptionSpec[] = [
  { name: "listen", env: "STATEGIT_LISTEN", value: "HOST:PORT", default: "127.0.0.1:8283", description: "address to listen on ([::1]:PORT for IPv6; port 0 picks a free one)" },
  ...DATA_OPTIONS,
  {
    name: "trust-org-header",
    env: "STATEGIT_TRUST_ORG_HEADER",
    description: "accept requests without credentials that carry X-Organization-Id (only behind a trusted proxy)",
  },
  { name: "allow-force-push", env: "STATEGIT_ALLOW_FORCE_PUSH", description: "accept pushes that are not fast-forwards" },
  {
    name: "cache-bytes",
    env: "STATEGIT_CACHE_BYTES",
    value: "N",
    default: String(DEFAULT_CACHE_BYTES),
    description: "memory for loaded repositories (their packs, indexes and object caches); the least recently used are evicted",
  },
  GRACE_PERIOD_OPTION,
  BLOCK_LAYOUT_OPTION,
  {
    name: "block-policy",
    env: "STATEGIT_BLOCK_POLICY",
    value: "strict|warn|off",
    default: "strict",
    description: "memory rules on pushes to main and API writes: refuse, only warn, or skip",
  },
  {
    name: "system-token-budget",
    env: "STATEGIT_SYSTEM_TOKEN_BUDGET",
    value: "N",
    description: "v1: system/ files must total fewer than N estimated tokens (UTF-8 bytes / 4, per file rounded up)",
  },
  {
    name: "workers",
    env: "STATEGIT_WORKERS",
    value: "N",
    description: "worker threads for clones, large fetches, pushed packs and compaction (default: the number of CPUs; 0: all on the request thread)",
  },
  {
    name: "worker-queue",
    env: "STATEGIT_WORKER_QUEUE",
    value: "N",
    default: "64",
    description: "heavy requests that may wait for a busy worker; more are answered 503 with Retry-After",
  },
  { name: "max-body-bytes", env: "STATEGIT_MAX_BODY_BYTES", value: "N", default: String(512 * 1024 * 1024), description: "largest request body, after decompression" },
  { name: "max-object-bytes", env: "STATEGIT_MAX_OBJECT_BYTES", value: "N", default: String(DEFAULT_PACK_LIMITS.maxObjectSize), description: "largest object (or delta) in a pushed pack, inflated" },
  { name: "max-inflated-bytes", env: "STATEGIT_MAX_INFLATED_BYTES", value: "N", default: String(DEFAULT_PACK_LIMITS.maxInflatedBytes), description: "sum of all inflated bytes a pushed pack may produce" },
  { name: "max-objects", env: "STATEGIT_MAX_OBJECTS", value: "N", default: String(DEFAULT_PACK_LIMITS.maxObjectCount), description: "most objects in a pushed pack" },
  { name: "max-delta-depth", env: "STATEGIT_MAX_DELTA_DEPTH", value: "N", default: String(DEFAULT_PACK_LIMITS.maxDeltaDepth), description: "longest delta chain in a pushed pack" },
  { name: "log-level", env: "STATEGIT_LOG_LEVEL", value: "LEVEL", default: "info", description: `least severe log lines written (JSON, one per line, on stderr): ${LOG_LEVELS.join(", ")}` },
  {
    name: "shutdown-timeout",
    env: "STATEGIT_SHUTDOWN_TIMEOUT",
    value: "SECONDS",
    default: "25",
    description: "on SIGTERM, how long requests in flight may take to finish; writes not committed by then are refused",
  },
  {
    name: "event-retention",
    env: "STATEGIT_EVENT_RETENTION",
    value: "DURATION",
    default: "7d",
    description: `how long change events are kept for SSE resumption (each agent also keeps at most its last ${DEFAULT_RETENTION.generationsPerAgent} generations' events)`,
  },
  {
    name: "event-heartbeat",
    env: "STATEGIT_EVENT_HEARTBEAT",
    value: "DURATION",
    default: "15s",
    description: "how often an idle event stream sends a comment line, so that proxies keep it open",
  },
  {
    name: "webhook-retry-for",
    env: "STATEGIT_WEBHOOK_RETRY_FOR",
    value: "DURATION",
    default: "24h",
    description: "how long a failing webhook delivery is retried (with exponential backoff) before it is given up",
  },
  { name: "tls-cert", env: "STATEGIT_TLS_CERT", value: "FILE", description: "serve HTTPS with this PEM certificate (chain); re-read on SIGHUP" },
  { name: "tls-key", env: "STATEGIT_TLS_KEY", value: "FILE", description: "the PEM private key of --tls-cert; re-read on SIGHUP" },
];

/** The data options, validated (a malformed URL is a UsageError). */
export function dataConfig(options: Options): { storageUrl: string; databaseUrl: string } {
  const problems = new Problems();
  const config = checkDataConfig(options, problems);
  problems.throwIfAny();
  return config;
}

function checkDataConfig(options: Options, problems: Problems): { storageUrl: string; databaseUrl: string } {
  const storageUrl = options.string("storage");
  const databaseUrl = options.string("database");
  problems.check(() => parseStoreUrl(storageUrl));
  problems.check(() => parseDatabaseUrl(databaseUrl));
  return { storageUrl, databaseUrl };
}

/** Every serve option, validated; all problems are reported at once, one line each. */
export function serveConfig(options: Options): ServeConfig {
  const problems = new Problems();
  const count = (name: string) => problems.check(() => positiveInteger(name, options.string(name))) ?? 0;
  const duration = (name: string) => problems.check(() => positiveDuration(name, options.string(name))) ?? 0;
  const config: ServeConfig = {
    listen: problems.check(() => parseListen(options.string("listen"))) ?? { hostname: "", port: 0 },
    ...checkDataConfig(options, problems),
    trustOrgHeader: options.flag("trust-org-header"),
    allowForcePush: options.flag("allow-force-push"),
    cacheBytes: count("cache-bytes"),
    workers: problems.check(() => wholeNumber("workers", options.optionalString("workers") ?? String(availableParallelism()))) ?? 0,
    workerQueue: count("worker-queue"),
    memory: memoryRulesConfig(options),
    gracePeriodMs: gracePeriod(options),
    limits: {
      maxBodyBytes: count("max-body-bytes"),
      maxObjectSize: count("max-object-bytes"),
      maxInflatedBytes: count("max-inflated-bytes"),
      maxObjectCount: count("max-objects"),
      maxDeltaDepth: count("max-delta-depth"),
    },
    logLevel: problems.check(() => parseLogLevel(options.string("log-level"))) ?? "info",
    shutdownTimeoutMs: problems.check(() => parseSeconds("shutdown-timeout", options.string("shutdown-timeout"))) ?? 0,
    events: {
      retentionMs: duration("event-retention"),
      heartbeatMs: duration("event-heartbeat"),
      webhookRetryForMs: duration("webhook-retry-for"),
    },
  };
  const tls = problems.check(() => tlsFiles(options));
  if (tls) config.tls = tls;
  problems.throwIfAny();
  return config;
}

/** `HOST:PORT`, or `[IPV6]:PORT`. */
export function parseListen(text: string): { hostname: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new UsageError(`invalid listen address ${JSON.stringify(text)}: expected HOST:PORT`);
  return { hostname: match[1] ?? match[2], port };
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration: a whole number and a unit, `ms`, `s`, `m`, `h` or `d` (`90m`, `1h`, `7d`). */
export function parseDuration(name: string, text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  const value = match ? Number(match[1]) * DURATION_UNITS_MS[match[2]] : NaN;
  if (!Number.isSafeInteger(value)) throw new UsageError(`--${name}: expected a duration such as 90s, 30m, 1h or 7d, got ${JSON.stringify(text)}`);
  return value;
}

function positiveDuration(name: string, text: string): number {
  const value = parseDuration(name, text);
  if (value === 0) throw new UsageError(`--${name}: must be longer than 0, got ${JSON.stringify(text)}`);
  return value;
}

export function gracePeriod(options: Options): number {
  return parseDuration("grace-period", options.string("grace-period"));
}

function oneOf<T extends string>(name: string, allowed: readonly T[], options: Options): T {
  const value = options.string(name);
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name}: expected ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
  return value as T;
}

export function blockLayout(options: Options): BlockLayout {
  return oneOf("block-layout", ["letta", "seed"], options);
}

export function memoryRulesConfig(options: Options): MemoryRulesConfig {
  const budget = options.optionalString("system-token-budget");
  return {
    blockLayout: blockLayout(options),
    blockPolicy: oneOf("block-policy", ["strict", "warn", "off"], options),
    ...(budget !== undefined && { systemTokenBudget: positiveInteger("system-token-budget", budget) }),
  };
}

/** The --org/--agent (or --repository) selection, validated; `repo` is a RepositoryName. */
export function selection(options: Options): { org?: string; repo?: string } {
  const org = options.optionalString("org");
  const agent = options.optionalString("agent");
  const shared = options.optionalString("repository");
  if (org !== undefined) usage(() => checkName("organisation", org));
  if (agent !== undefined && shared !== undefined) throw new UsageError("--agent and --repository each select one repository: give one of them");
  if (shared !== undefined) return { org, repo: usage(() => sharedRepositoryName(shared)) };
  if (agent !== undefined) usage(() => checkName("agent id", agent));
  return { org, repo: agent };
}

function parseLogLevel(text: string): LogLevel {
  if (!isLogLevel(text)) throw new UsageError(`--log-level: expected one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(text)}`);
  return text;
}

function parseSeconds(name: string, text: string): number {
  if (!/^\d+(\.\d+)?$/.test(text)) throw new UsageError(`--${name}: expected a number of seconds, got ${JSON.stringify(text)}`);
  return Math.round(Number(text) * 1000);
}

/** Both files or neither; each must be a readable PEM file now, so a typo fails the start, not the first handshake. */
function tlsFiles(options: Options): TlsFiles | undefined {
  const certFile = options.optionalString("tls-cert");
  const keyFile = options.optionalString("tls-key");
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) throw new UsageError("--tls-cert and --tls-key go together: give both or neither");
  const problems = new Problems();
  problems.check(() => checkPemFile("tls-cert", certFile, "CERTIFICATE"));
  problems.check(() => checkPemFile("tls-key", keyFile, "PRIVATE KEY"));
  problems.throwIfAny();
  return { certFile, keyFile };
}

function checkPemFile(name: string, path: string, label: string): void {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`--${name}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(text)) throw new UsageError(`--${name}: ${path} holds no PEM ${label.toLowerCase()}`);
}

/** A whole number, 0 included. */
function wholeNumber(name: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw new UsageError(`--${name}: expected a whole number, got ${JSON.stringify(text)}`);
  return value;
}

export function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || !Number.isSafeInteger(value)) {
    throw new UsageError(`--${name}: expected a positive whole number, got ${JSON.stringify(text)}`);
  }
  return value;
}
