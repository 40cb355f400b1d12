import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { UsageError, type Command } from "../../src/cli/command.ts";
import { COMMANDS } from "../../src/cli/commands/index.ts";
import { parseListen, serveConfig } from "../../src/cli/config.ts";
import type { ServeConfig } from "../../src/http/server.ts";
import { parseInvocation, runCli } from "../../src/cli/main.ts";
import { DEFAULT_PACK_LIMITS } from "../../src/git/pack/types.ts";
import { tempDir } from "../support/git.ts";

const serveCommand = COMMANDS.find((command) => command.name === "serve")!;

function resolveServe(args: string[], env: Record<string, string> = {}): ServeConfig {
  const invocation = parseInvocation(serveCommand, args, env);
  if (invocation === "help") throw new Error("unexpected help");
  return serveConfig(invocation.options);
}

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error("expected a UsageError");
}

const DEFAULTS: ServeConfig = {
  listen: { hostname: "127.0.0.1", port: 8283 },
  storageUrl: "file:./data/repos",
  databaseUrl: "sqlite:./data/stategit.db",
  trustOrgHeader: false,
  allowForcePush: false,
  cacheBytes: 512 * 1024 * 1024,
  workers: availableParallelism(),
  workerQueue: 64,
  memory: { blockLayout: "letta", blockPolicy: "strict" },
  gracePeriodMs: 60 * 60 * 1000,
  limits: { maxBodyBytes: 512 * 1024 * 1024, ...DEFAULT_PACK_LIMITS },
  logLevel: "info",
  shutdownTimeoutMs: 25_000,
  events: { retentionMs: 7 * 86_400_000, heartbeatMs: 15_000, webhookRetryForMs: 86_400_000 },
};

describe("serve configuration", () => {
  test("defaults are the Contract's", () => {
    expect(resolveServe([])).toEqual(DEFAULTS);
  });

  test("environment variables beat defaults, and flags beat environment variables", () => {
    const env = {
      STATEGIT_LISTEN: "0.0.0.0:9000",
      STATEGIT_STORAGE: "memory:",
      STATEGIT_DATABASE_URL: "postgres://db/stategit",
      STATEGIT_TRUST_ORG_HEADER: "1",
      STATEGIT_ALLOW_FORCE_PUSH: "true",
      STATEGIT_MAX_OBJECTS: "10",
      STATEGIT_GRACE_PERIOD: "7d",
      STATEGIT_BLOCK_LAYOUT: "seed",
      STATEGIT_WORKERS: "0",
      STATEGIT_WEBHOOK_RETRY_FOR: "2h",
    };
    expect(resolveServe([], env)).toEqual({
      listen: { hostname: "0.0.0.0", port: 9000 },
      storageUrl: "memory:",
      databaseUrl: "postgres://db/stategit",
      trustOrgHeader: true,
      allowForcePush: true,
      cacheBytes: DEFAULTS.cacheBytes,
      workers: 0,
      workerQueue: 64,
      memory: { blockLayout: "seed", blockPolicy: "strict" },
      gracePeriodMs: 7 * 86_400_000,
      limits: { ...DEFAULTS.limits, maxObjectCount: 10 },
      logLevel: "info",
      shutdownTimeoutMs: 25_000,
      events: { ...DEFAULTS.events, webhookRetryForMs: 7_200_000 },
    });
    const flags = ["--listen", "[::1]:0", "--storage=file:/srv/repos", "--database", "sqlite:/srv/db", "--max-objects", "20", "--max-body-bytes", "1024", "--cache-bytes", "4096", "--grace-period", "90s", "--block-policy", "warn", "--system-token-budget", "8000", "--event-heartbeat", "500ms", "--workers", "3", "--worker-queue", "5"];
    expect(resolveServe(flags, env)).toEqual({
      listen: { hostname: "::1", port: 0 },
      storageUrl: "file:/srv/repos",
      databaseUrl: "sqlite:/srv/db",
      trustOrgHeader: true,
      allowForcePush: true,
      cacheBytes: 4096,
      workers: 3,
      workerQueue: 5,
      memory: { blockLayout: "seed", blockPolicy: "warn", systemTokenBudget: 8000 },
      gracePeriodMs: 90_000,
      limits: { ...DEFAULTS.limits, maxObjectCount: 20, maxBodyBytes: 1024 },
      logLevel: "info",
      shutdownTimeoutMs: 25_000,
      events: { ...DEFAULTS.events, heartbeatMs: 500, webhookRetryForMs: 7_200_000 },
    });
  });

  test("switches: the flag turns them on whatever the environment says; empty or 0 means off", () => {
    expect(resolveServe(["--trust-org-header"], { STATEGIT_TRUST_ORG_HEADER: "0" }).trustOrgHeader).toBe(true);
    for (const off of ["", "0", "false", "off"]) {
      expect(resolveServe([], { STATEGIT_TRUST_ORG_HEADER: off }).trustOrgHeader).toBe(false);
    }
    expect(usageError(() => resolveServe([], { STATEGIT_ALLOW_FORCE_PUSH: "maybe" }))).toContain("STATEGIT_ALLOW_FORCE_PUSH");
  });

  test("malformed values are usage errors naming the option", () => {
    for (const value of ["0", "-1", "1.5", "1e3", "", "12abc", "99999999999999999999"]) {
      expect(usageError(() => resolveServe(["--max-delta-depth", value]))).toContain("--max-delta-depth");
    }
    expect(usageError(() => resolveServe(["--storage", "gs:"]))).toContain("storage URL");
    expect(usageError(() => resolveServe([], { STATEGIT_DATABASE_URL: "mysql://db" }))).toContain("database URL");
    expect(usageError(() => resolveServe(["--listen", "8283"]))).toContain("listen");
    expect(usageError(() => resolveServe(["--block-policy", "lenient"]))).toContain("--block-policy");
    expect(usageError(() => resolveServe(["--block-layout", "v3"]))).toContain("--block-layout");
    expect(usageError(() => resolveServe(["--system-token-budget", "0"]))).toContain("--system-token-budget");
    for (const value of ["-1", "1.5", "two", ""]) expect(usageError(() => resolveServe(["--workers", value]))).toContain("--workers");
    expect(usageError(() => resolveServe(["--worker-queue", "0"]))).toContain("--worker-queue");
    for (const value of ["1", "1y", "h", "-1h", "1.5h", ""]) {
      expect(usageError(() => resolveServe(["--grace-period", value]))).toContain("--grace-period");
    }
  });

  test("log level, shutdown timeout and TLS files", () => {
    expect(resolveServe(["--log-level", "debug", "--shutdown-timeout", "2.5"])).toMatchObject({ logLevel: "debug", shutdownTimeoutMs: 2500 });
    expect(resolveServe([], { STATEGIT_LOG_LEVEL: "error", STATEGIT_SHUTDOWN_TIMEOUT: "0" })).toMatchObject({ logLevel: "error", shutdownTimeoutMs: 0 });
    expect(usageError(() => resolveServe(["--log-level", "verbose"]))).toContain("--log-level");
    for (const bad of ["-1", "soon", "1e3", ""]) expect(usageError(() => resolveServe(["--shutdown-timeout", bad]))).toContain("--shutdown-timeout");

    const dir = tempDir("stategit-config-");
    try {
      const cert = join(dir.path, "cert.pem");
      const key = join(dir.path, "key.pem");
      writeFileSync(cert, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
      writeFileSync(key, "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
      expect(resolveServe(["--tls-cert", cert, "--tls-key", key]).tls).toEqual({ certFile: cert, keyFile: key });
      expect(resolveServe([]).tls).toBeUndefined();
      expect(usageError(() => resolveServe(["--tls-cert", cert]))).toContain("--tls-cert and --tls-key go together");
      expect(usageError(() => resolveServe(["--tls-cert", join(dir.path, "missing.pem"), "--tls-key", key]))).toContain("ENOENT");
      expect(usageError(() => resolveServe(["--tls-cert", key, "--tls-key", cert]))).toBe(
        `--tls-cert: ${key} holds no PEM certificate; --tls-key: ${cert} holds no PEM private key`,
      );
    } finally {
      dir.cleanup();
    }
  });

  test("every problem of a configuration is reported at start, one line each, with exit status 2", async () => {
    let err = "";
    const io = { env: { STATEGIT_LOG_LEVEL: "loud" }, out: () => {}, err: (text: string) => void (err += text) };
    const status = await runCli(["serve", "--listen", "nowhere", "--max-objects", "0", "--storage", "s3://x", "--tls-key", "k.pem"], io);
    expect(status).toBe(2);
    const lines = err.trimEnd().split("\n");
    expect(lines).toHaveLength(5);
    for (const [line, reason] of lines.map((line, i) => [line, ["listen", "storage URL", "--max-objects", "--log-level", "--tls-cert and --tls-key"][i]])) {
      expect(line).toStartWith("stategit: serve: ");
      expect(line).toContain(reason);
    }
  });

  test("listen addresses", () => {
    expect(parseListen("localhost:0")).toEqual({ hostname: "localhost", port: 0 });
    expect(parseListen("[::]:80")).toEqual({ hostname: "::", port: 80 });
    for (const bad of ["8283", "host:", ":80", "host:70000", "[::1]", "a b:1", "::1:80", "host:80:80"]) {
      usageError(() => parseListen(bad));
    }
  });
});

describe("command lines", () => {
  test("--version prints the version and the commit (from the sources: dev)", async () => {
    let out = "";
    expect(await runCli(["--version"], { env: {}, out: (text) => void (out += text), err: () => {} })).toBe(0);
    expect(out).toBe(`stategit ${packageJson.version} (commit dev)\n`);
  });

  const command = (name: string): Command => COMMANDS.find((candidate) => candidate.name === name)!;

  test("arguments are counted and unknown flags refused", () => {
    expect(usageError(() => parseInvocation(command("key create"), [], {}))).toContain("ORG");
    expect(usageError(() => parseInvocation(command("key create"), ["a", "b"], {}))).toContain("ORG");
    expect(usageError(() => parseInvocation(command("org create"), ["a", "--bogus"], {}))).toContain("--bogus");
    expect(usageError(() => parseInvocation(command("org create"), ["a", "--database"], {}))).toContain("--database");
    expect(usageError(() => parseInvocation(command("org create"), ["a", "--listen", "x:1"], {}))).toContain("--listen");
    expect(parseInvocation(command("agent list"), ["a", "-h"], {})).toBe("help");
  });

  test("every command's help names each of its flags and their variables", async () => {
    for (const each of COMMANDS) {
      let out = "";
      const status = await runCli([...each.name.split(" "), "--help"], { env: {}, out: (text) => (out += text), err: () => {} });
      expect(status).toBe(0);
      for (const option of each.options) {
        expect(out).toContain(`--${option.name}`);
        if (option.env) expect(out).toContain(option.env);
      }
    }
  });
});
