import { describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { UnknownCommitOutcomeError } from "../../src/db/manifests.ts";
import { createApp } from "../../src/http/app.ts";
import type { GitRepositories } from "../../src/http/git-routes.ts";
import { SILENT_LOGGER } from "../../src/http/logger.ts";
import { Metrics } from "../../src/http/metrics.ts";
import type { PushRequest } from "../../src/protocol/receive-pack.ts";
import type { RepositorySnapshot } from "../../src/protocol/snapshot.ts";
import { StorageError } from "../../src/storage/blob-store.ts";

const KEY = "sg_0123456789abcdef_secret";
const emptySnapshot: RepositorySnapshot = {
  head: "refs/heads/main",
  refs: new Map(),
  objects: { hasObject: () => false, readObject: () => undefined },
};

function makeApp(options: { trustOrgHeader?: boolean; maxBodyBytes?: number; failure?: Error } = {}) {
  const opened: string[] = [];
  const pushes: PushRequest[] = [];
  const repositories: GitRepositories = {
    resolve: (org, { agent }) => ({
      snapshot: async () => {
        opened.push(`${org}/${agent}`);
        if (options.failure) throw options.failure;
        return emptySnapshot;
      },
      push: async (request) => {
        pushes.push(request);
        return { statuses: request.updates.map(() => ({ ok: true })) } as never;
      },
    }),
  };
  const app = createApp({
    accounts: { authenticate: async (key) => (key === KEY ? { org: "acme", admin: false } : undefined) },
    repositories,
    trustOrgHeader: options.trustOrgHeader ?? false,
    maxBodyBytes: options.maxBodyBytes ?? 1 << 20,
    logger: SILENT_LOGGER,
    metrics: new Metrics({ version: "test", commit: "test" }),
    readinessChecks: [],
  });
  return { app, opened, pushes };
}

const basic = (user: string, key: string) => `Basic ${Buffer.from(`${user}:${key}`).toString("base64")}`;
const infoRefs = (base = "/v1/git", agent = "agent-1", service = "git-upload-pack") => `http://x${base}/${agent}/state.git/info/refs?service=${service}`;

describe("authentication", () => {
  test("no or wrong credentials get 401 with a Basic challenge", async () => {
    const { app, opened } = makeApp();
    // Twice each: a header seen before is answered from memory, and must be refused again.
    for (const authorization of [undefined, basic("letta", "wrong"), "Bearer nope", "Digest abc", basic("letta", "wrong"), "Digest abc"]) {
      const response = await app.request(infoRefs(), { headers: authorization ? { authorization } : {} });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Basic realm="stategit"');
    }
    expect(opened).toEqual([]);
  });

  test("Basic with any user name and Bearer both name the key's organisation", async () => {
    const { app, opened } = makeApp();
    for (const authorization of [basic("letta", KEY), basic("", KEY), `Bearer ${KEY}`]) {
      expect((await app.request(infoRefs(), { headers: { authorization } })).status).toBe(200);
    }
    expect((await app.request(infoRefs("/git"), { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
    expect((await app.request(infoRefs(""), { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
    expect((await app.request(infoRefs(""))).status).toBe(401);
    expect(opened).toEqual(Array(5).fill("acme/agent-1"));
  });

  test("X-Organization-Id counts only when trusted, and never beats a bad key", async () => {
    const untrusted = makeApp();
    expect((await untrusted.app.request(infoRefs(), { headers: { "x-organization-id": "acme" } })).status).toBe(401);
    const trusted = makeApp({ trustOrgHeader: true });
    expect((await trusted.app.request(infoRefs(), { headers: { "x-organization-id": "other" } })).status).toBe(200);
    expect((await trusted.app.request(infoRefs(), { headers: { "x-organization-id": "../etc" } })).status).toBe(401);
    expect((await trusted.app.request(infoRefs(), { headers: { "x-organization-id": "other", authorization: "Bearer bad" } })).status).toBe(401);
    expect(trusted.opened).toEqual(["other/agent-1"]);
  });
});

describe("git routes", () => {
  const auth = { authorization: `Bearer ${KEY}` };

  test("the advertisement has the smart content type and no-cache headers", async () => {
    const { app } = makeApp();
    const response = await app.request(infoRefs(), { headers: auth });
    expect(response.headers.get("content-type")).toBe("application/x-git-upload-pack-advertisement");
    expect(response.headers.get("cache-control")).toContain("no-cache");
    const body = await response.text();
    expect(body.startsWith("001e# service=git-upload-pack\n0000")).toBe(true);
    expect(body).toContain("0000000000000000000000000000000000000000 capabilities^{}\0");
  });

  test("unknown services are 403, bad agent ids 404", async () => {
    const { app, opened } = makeApp();
    expect((await app.request(infoRefs("/v1/git", "agent-1", "git-upload-archive"), { headers: auth })).status).toBe(403);
    expect((await app.request("http://x/v1/git/agent-1/state.git/info/refs", { headers: auth })).status).toBe(403);
    for (const agent of ["a..b", ".hidden", "x".repeat(129), "sp%20ace"]) {
      expect((await app.request(infoRefs("/v1/git", agent), { headers: auth })).status).toBe(404);
    }
    expect(opened).toEqual([]);
  });

  test("POSTs need the request content type and a body within the limit, gzip included", async () => {
    const { app } = makeApp({ maxBodyBytes: 1000 });
    const url = "http://x/v1/git/agent-1/state.git/git-upload-pack";
    expect((await app.request(url, { method: "POST", headers: auth, body: "0000" })).status).toBe(415);
    const headers = { ...auth, "content-type": "application/x-git-upload-pack-request" };
    expect((await app.request(url, { method: "POST", headers, body: new Uint8Array(2000) })).status).toBe(413);
    const bomb = gzipSync(new Uint8Array(1 << 20));
    expect((await app.request(url, { method: "POST", headers: { ...headers, "content-encoding": "gzip" }, body: bomb })).status).toBe(413);
  });

  test("a malformed receive-pack body is a 400 that changes nothing", async () => {
    const { app, pushes } = makeApp();
    const response = await app.request("http://x/v1/git/agent-1/state.git/git-receive-pack", {
      method: "POST",
      headers: { ...auth, "content-type": "application/x-git-receive-pack-request" },
      body: "zzzz garbage",
    });
    expect(response.status).toBe(400);
    expect(pushes).toEqual([]);
  });

  test("the probe POST of a chunked push answers without pushing", async () => {
    const { app, pushes } = makeApp();
    const response = await app.request("http://x/v1/git/agent-1/state.git/git-receive-pack", {
      method: "POST",
      headers: { ...auth, "content-type": "application/x-git-receive-pack-request" },
      body: "0000",
    });
    expect(response.status).toBe(200);
    expect(pushes).toEqual([]);
  });
});

describe("failures of storage and database", () => {
  test("an unavailable dependency is a 503 with Retry-After; anything else a 500", async () => {
    const unavailable = [
      new StorageError("storage.unavailable", "GCS did not answer within 30000 ms"),
      new UnknownCommitOutcomeError(new Error("connection lost")),
      Object.assign(new Error("write CONNECTION_CLOSED"), { code: "CONNECTION_CLOSED" }),
    ];
    for (const failure of unavailable) {
      const response = await makeApp({ failure }).app.request(infoRefs(), { headers: { authorization: `Bearer ${KEY}` } });
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("5");
      expect(await response.text()).toContain(failure.message);
    }
    const bug = await makeApp({ failure: new TypeError("x is undefined") }).app.request(infoRefs(), { headers: { authorization: `Bearer ${KEY}` } });
    expect(bug.status).toBe(500);
    expect(await bug.text()).not.toContain("undefined");
  });
});
