/** The web page in process: the real app with real accounts, sessions, repositories on a memory store and the mirror, on SQLite. */
import { Accounts } from "../../src/db/accounts.ts";
import type { SqlAdapter } from "../../src/db/adapter.ts";
import { MemoryMirror } from "../../src/db/mirror.ts";
import { deploymentRepositories } from "../../src/db/repositories.ts";
import { EventLog } from "../../src/db/events.ts";
import { Sessions } from "../../src/db/sessions.ts";
import { SharedRepositories } from "../../src/db/shared-repositories.ts";
import { EventStreams } from "../../src/events/streams.ts";
import { LocalTransport } from "../../src/events/transport.ts";
import { createApp } from "../../src/http/app.ts";
import { gitTargets } from "../../src/http/git-targets.ts";
import { createLogger } from "../../src/http/logger.ts";
import { MemoryApi } from "../../src/http/memory-api.ts";
import { Metrics } from "../../src/http/metrics.ts";
import { MemoryBlobStore } from "../../src/storage/memory.ts";

export const ORIGIN = "http://stategit.test";

export interface UiFixture {
  accounts: Accounts;
  /** Ends every event stream (so that a test's open stream does not outlive it). */
  closeStreams(): void;
  /** A request to the app; `cookies` are sent as a Cookie header. */
  request(path: string, options?: { method?: string; form?: Record<string, string>; cookies?: Record<string, string>; headers?: Record<string, string> }): Promise<Response>;
  /** A JSON API call as `key`; throws unless it answers 2xx. */
  api(key: string, method: string, path: string, body?: unknown): Promise<any>;
  /** Writes a block of an agent (or of `repositories/{id}`, a shared repository) through the JSON API, as `key`. */
  putBlock(key: string, agent: string, label: string, body: Record<string, unknown>): Promise<void>;
  /** Signs in with `key` as a browser would; resolves to the session cookie's value. */
  signIn(key: string): Promise<string>;
}

/** The cookies a response sets, by name (values only). */
export function setCookies(response: Response): Record<string, string> {
  return Object.fromEntries(response.headers.getSetCookie().map((line) => line.split(";")[0].split("=") as [string, string]));
}

export function uiFixture(db: SqlAdapter): UiFixture {
  const accounts = new Accounts(db, { authCacheTtlMs: 0 });
  const mirror = new MemoryMirror(db);
  const eventLog = new EventLog(db);
  const eventTransport = new LocalTransport();
  const repositories = deploymentRepositories(db, new MemoryBlobStore(), "letta", { compaction: false, eventLog, eventTransport });
  const events = { streams: new EventStreams(eventLog, eventTransport), heartbeatMs: 60_000 };
  const shared = new SharedRepositories(db);
  const memory = { blockLayout: "letta", blockPolicy: "strict" } as const;
  const app = createApp({
    accounts,
    repositories: gitTargets({ repositories, shared, memory }),
    memoryApi: new MemoryApi({ repositories, shared, mirror, memory }),
    events,
    ui: { accounts, sessions: new Sessions(db), repositories, shared, mirror, blockLayout: "letta", events },
    trustOrgHeader: false,
    maxBodyBytes: 1 << 20,
    logger: createLogger("error", (text) => void process.stderr.write(text)),
    metrics: new Metrics({ version: "test", commit: "test" }),
    readinessChecks: [],
  });
  const request: UiFixture["request"] = async (path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.cookies) headers.cookie = Object.entries(options.cookies).map(([name, value]) => `${name}=${value}`).join("; ");
    if (options.form) headers["content-type"] = "application/x-www-form-urlencoded";
    return app.request(`${ORIGIN}${path}`, { method: options.method ?? (options.form ? "POST" : "GET"), headers, body: options.form && new URLSearchParams(options.form).toString() });
  };
  const api: UiFixture["api"] = async (key, method, path, body) => {
    const response = await app.request(`${ORIGIN}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? undefined : response.json();
  };
  return {
    accounts,
    closeStreams: () => events.streams.close(),
    request,
    api,
    async putBlock(key, agent, label, body) {
      await api(key, "PUT", `/v1/${agent.startsWith("repositories/") ? agent : `agents/${agent}`}/blocks/${label}`, body);
    },
    async signIn(key) {
      const form = await request("/ui/sign-in");
      const formCookie = setCookies(form).stategit_sign_in;
      const token = /name="csrf" value="([^"]+)"/.exec(await form.text())![1];
      const answer = await request("/ui/sign-in", {
        form: { csrf: token, key, next: "/ui/" },
        cookies: { stategit_sign_in: formCookie },
        headers: { origin: ORIGIN, "sec-fetch-site": "same-origin" },
      });
      if (answer.status !== 303) throw new Error(`sign-in: ${answer.status} ${await answer.text()}`);
      return setCookies(answer).stategit_session;
    },
  };
}
