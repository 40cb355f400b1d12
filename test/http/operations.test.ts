/**
 * The operations surface of the HTTP app, driven by the real git client against the app served
 * in-process over a memory store: /healthz, /readyz, /metrics (checked against the text format)
 * and the request log.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createApp } from "../../src/http/app.ts";
import { timeCalls } from "../../src/http/call-timing.ts";
import { createLogger, type LogLevel } from "../../src/http/logger.ts";
import { Metrics } from "../../src/http/metrics.ts";
import { checkReadiness, type ReadinessCheck } from "../../src/http/readiness.ts";
import { Repositories } from "../../src/repo/repository.ts";
import { memoryManifests } from "../repo/support.ts";
import { MemoryBlobStore } from "../../src/storage/memory.ts";
import { gitAsync, tempDir } from "../support/git.ts";
import { parseExposition } from "./exposition.ts";

const KEY = "sg_0123456789abcdef_secret";
const auth = { authorization: `Bearer ${KEY}` };

type LogLine = Record<string, string | number | boolean>;

interface Served {
  url: string;
  metrics: Metrics;
  /** Every log line written so far, parsed. */
  lines(): LogLine[];
  requestLines(): LogLine[];
  stop(): void;
}

async function serve(options: { logLevel?: LogLevel; readinessChecks?: ReadinessCheck[] } = {}): Promise<Served> {
  const metrics = new Metrics({ version: "1.2.3", commit: "abc" });
  const logger = createLogger(options.logLevel ?? "info", (text) => void (written += text));
  let written = "";
  const repositories = new Repositories(timeCalls(new MemoryBlobStore(), metrics.storageCalls), await memoryManifests(), { metrics: metrics.repositoryCache });
  const app = createApp({
    accounts: { authenticate: async (key) => (key === KEY ? { org: "acme", admin: false } : undefined) },
    repositories: {
      // No shared repository is attached to anyone here.
      resolve: (org, { agent, shared }) =>
        shared !== undefined
          ? undefined
          : {
              snapshot: async () => {
                if (agent === "explode") throw new Error("storage on fire");
                return repositories.snapshot(org, agent);
              },
              push: (request) => repositories.push(org, agent, { ...request, allowForcePush: false }),
            },
    },
    trustOrgHeader: false,
    maxBodyBytes: 1 << 24,
    logger,
    metrics,
    readinessChecks: options.readinessChecks ?? [],
  });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
  const lines = () => {
    logger.flush();
    return written
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as LogLine);
  };
  return {
    url: `http://127.0.0.1:${server.port}`,
    metrics,
    lines,
    requestLines: () => lines().filter((line) => line.msg === "request"),
    stop: () => void server.stop(true),
  };
}

async function scrape(served: Served): Promise<Map<string, number>> {
  const response = await fetch(`${served.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parseExposition(await response.text());
}

describe("health, readiness and metrics", () => {
  test("/healthz answers without credentials; /readyz is 200 when every check passes, 503 naming the one that fails", async () => {
    let databaseUp = true;
    const served = await serve({
      readinessChecks: [
        { name: "database", check: async () => void (databaseUp || (() => { throw new Error("connection refused"); })()) },
        { name: "storage", check: async () => undefined },
      ],
    });
    try {
      expect(await (await fetch(`${served.url}/healthz`)).text()).toBe("ok\n");
      let response = await fetch(`${served.url}/readyz`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ready: true, checks: { database: "ok", storage: "ok" } });
      databaseUp = false;
      response = await fetch(`${served.url}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ ready: false, checks: { database: "connection refused", storage: "ok" } });
    } finally {
      served.stop();
    }
  });

  test("a check that never answers fails the probe at its timeout instead of hanging it", async () => {
    const readiness = await checkReadiness([{ name: "hung", check: () => new Promise(() => undefined) }], 20);
    expect(readiness).toEqual({ ready: false, checks: { hung: "no answer within 20 ms" } });
  });

  test("/metrics is valid Prometheus text and has the build, request and storage families from the start", async () => {
    const served = await serve();
    try {
      await fetch(`${served.url}/healthz`);
      const samples = await scrape(served);
      expect(samples.get('stategit_build_info{version="1.2.3",commit="abc"}')).toBe(1);
      expect(samples.get('stategit_http_requests_total{route="/healthz",method="GET",status="200"}')).toBe(1);
      expect(samples.get('stategit_http_request_duration_seconds_count{operation="other"}')).toBe(1);
      for (const family of ["stategit_repository_cache_hits_total", "stategit_git_objects_sent_total", "stategit_worker_pool_queue_length"]) {
        expect(samples.has(family)).toBe(true);
      }
    } finally {
      served.stop();
    }
  });
});

describe("the real git client against the app", () => {
  let served: Served;
  let workspace: { path: string; cleanup: () => void };
  const repoUrl = (agent: string) => `${served.url.replace("http://", "http://letta:" + KEY + "@")}/v1/git/${agent}/state.git`;
  const git = async (args: string[], cwd = workspace.path) => {
    const result = await gitAsync(args, { cwd });
    if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
    return result;
  };

  beforeAll(async () => {
    served = await serve();
    workspace = tempDir("stategit-operations-");
    await git(["init", "-q", "-b", "main", "work"]);
    await Bun.write(join(workspace.path, "work/system/persona.md"), "---\ndescription: who I am\n---\nhelpful\n");
    await git(["add", "."], join(workspace.path, "work"));
    await git(["commit", "-q", "-m", "persona"], join(workspace.path, "work"));
    await git(["push", "-q", repoUrl("agent-1"), "main"], join(workspace.path, "work"));
    await git(["clone", "-q", repoUrl("agent-1"), "clone"]);
  });
  afterAll(() => {
    served.stop();
    workspace.cleanup();
  });

  test("a push and a clone: one log line per request with org, agent, service, status, duration and bytes", async () => {
    const lines = served.requestLines().filter((line) => line.org === "acme");
    const push = lines.find((line) => line.service === "git-receive-pack" && line.method === "POST")!;
    expect(push).toMatchObject({ level: "info", status: 200, org: "acme", agent: "agent-1", path: "/v1/git/agent-1/state.git/git-receive-pack" });
    expect(push.bytes_in as number).toBeGreaterThan(100);
    expect(push.bytes_out as number).toBeGreaterThan(0);
    expect(typeof push.duration_ms).toBe("number");
    expect(push.refusal).toBeUndefined();
    const clonePack = lines.filter((line) => line.service === "git-upload-pack" && line.method === "POST").at(-1)!;
    expect(clonePack.bytes_out as number).toBeGreaterThan(100);
    expect(String(clonePack.request_id)).toMatch(/^[0-9a-f-]{36}$/);
    // git asks without credentials first: that 401 is logged with its reason.
    expect(served.requestLines().find((line) => line.status === 401)).toMatchObject({ refusal: "authentication required" });
  });

  test("objects sent and received, bytes by operation and cache hits are counted", async () => {
    const samples = await scrape(served);
    // A commit, its tree, the system/ tree and one blob.
    expect(samples.get("stategit_git_objects_received_total")).toBe(4);
    expect(samples.get("stategit_git_objects_sent_total")).toBe(4);
    expect(samples.get('stategit_http_request_bytes_total{operation="receive-pack"}')).toBeGreaterThan(100);
    expect(samples.get('stategit_http_response_bytes_total{operation="upload-pack"}')).toBeGreaterThan(100);
    expect(samples.get("stategit_repository_cache_hits_total")).toBeGreaterThan(0);
    expect(samples.get("stategit_repository_cache_misses_total")).toBeGreaterThan(0);
    expect(samples.get('stategit_storage_call_duration_seconds_count{operation="createOnly"}')).toBe(2);
    expect(samples.get('stategit_http_requests_total{route="/v1/git/:agent/state.git/git-receive-pack",method="POST",status="200"}')).toBe(1);
  });

  test("a refused push logs the reason of its ng line", async () => {
    const work = join(workspace.path, "work");
    await git(["commit", "-q", "--amend", "-m", "rewritten"], work);
    // Forced, so that the client sends it and the server (without --allow-force-push) refuses it.
    const refused = await gitAsync(["push", "--force", repoUrl("agent-1"), "main"], { cwd: work });
    expect(refused.exitCode).not.toBe(0);
    const line = served.requestLines().filter((candidate) => candidate.service === "git-receive-pack" && candidate.method === "POST").at(-1)!;
    expect(line.status).toBe(200);
    expect(String(line.refusal)).toMatch(/^refs\/heads\/main: .*(fast-forward|fetch first)/);
  });

  test("an upload-pack ERR packet is the request's refusal", async () => {
    const response = await fetch(`${served.url}/v1/git/agent-1/state.git/git-upload-pack`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/x-git-upload-pack-request", "git-protocol": "version=2" },
      body: "0012command=fetch\n00010032want 0123456789012345678901234567890123456789\n0009done\n0000",
    });
    expect(response.status).toBe(200);
    expect(served.requestLines().at(-1)).toMatchObject({ refusal: "upload-pack: not our ref 0123456789012345678901234567890123456789" });
  });

  test("a shared repository's request names it; not attached, it is a 404 with its reason", async () => {
    const response = await fetch(`${served.url}/v1/git/agent-1/repositories/notes.git/info/refs?service=git-upload-pack`, { headers: auth });
    expect(response.status).toBe(404);
    expect(served.requestLines().at(-1)).toMatchObject({ status: 404, agent: "agent-1", repository: "notes", refusal: "not found: no such repository" });
  });

  test("X-Request-Id is echoed when usable and replaced when not", async () => {
    const given = await fetch(`${served.url}/healthz`, { headers: { "x-request-id": "req-42" } });
    expect(given.headers.get("x-request-id")).toBe("req-42");
    expect(served.requestLines().at(-1)?.request_id).toBe("req-42");
    const forged = await fetch(`${served.url}/healthz`, { headers: { "x-request-id": 'x" level="error' } });
    expect(forged.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("an unexpected error is a 500, logged at error level with the request's id", async () => {
    const response = await fetch(`${served.url}/v1/git/explode/state.git/info/refs?service=git-upload-pack`, { headers: { ...auth, "x-request-id": "boom-1" } });
    expect(response.status).toBe(500);
    const lines = served.lines().filter((line) => line.request_id === "boom-1");
    expect(lines.map((line) => [line.msg, line.level])).toEqual([
      ["unexpected error", "error"],
      ["request", "error"],
    ]);
    expect(String(lines[0].error)).toContain("storage on fire");
  });
});

describe("log levels", () => {
  test("warn drops request lines but keeps errors; debug adds a line when each request starts", async () => {
    const quiet = await serve({ logLevel: "warn" });
    const verbose = await serve({ logLevel: "debug" });
    try {
      for (const served of [quiet, verbose]) {
        await fetch(`${served.url}/healthz`, { headers: { "x-request-id": "r1" } });
        await fetch(`${served.url}/v1/git/explode/state.git/info/refs?service=git-upload-pack`, { headers: auth });
      }
      expect(quiet.lines().map((line) => [line.msg, line.level])).toEqual([
        ["unexpected error", "error"],
        ["request", "error"],
      ]);
      expect(verbose.lines().filter((line) => line.request_id === "r1").map((line) => line.msg)).toEqual(["request started", "request"]);
    } finally {
      quiet.stop();
      verbose.stop();
    }
  });
});
