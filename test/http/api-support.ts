/** The JSON API in process: real repositories on a memory store, a real database and its mirror. */
import type { SqlAdapter } from "../../src/db/adapter.ts";
import { ManifestStore } from "../../src/db/manifests.ts";
import { MemoryMirror, mirrorInTransaction } from "../../src/db/mirror.ts";
import { SharedRepositories } from "../../src/db/shared-repositories.ts";
import { memoryFiles, type MemoryFile } from "../../src/blocks/memory-file.ts";
import { commitTree, memoryPolicyOf, type MemoryRulesConfig } from "../../src/blocks/push-check.ts";
import { ZERO_OID, type Oid } from "../../src/git/oid.ts";
import { createLogger } from "../../src/http/logger.ts";
import { Metrics } from "../../src/http/metrics.ts";
import { createApp } from "../../src/http/app.ts";
import { gitTargets } from "../../src/http/git-targets.ts";
import { MemoryApi } from "../../src/http/memory-api.ts";
import { Repositories } from "../../src/repo/repository.ts";
import { MemoryBlobStore } from "../../src/storage/memory.ts";
import { Workdir } from "../repo/support.ts";

export const ORG = "acme";
export const KEY = "sg_0000000000000001_user";
export const ADMIN_KEY = "sg_0000000000000002_admin";
/** A key of another organisation. */
export const OTHER_ORG_KEY = "sg_0000000000000003_other";
const MAIN = "refs/heads/main";

export interface ApiFixture {
  store: MemoryBlobStore;
  repositories: Repositories;
  mirror: MemoryMirror;
  request(method: string, path: string, options?: { body?: unknown; headers?: Record<string, string>; key?: string }): Promise<Response>;
  json<T = Record<string, any>>(method: string, path: string, options?: { body?: unknown; headers?: Record<string, string>; key?: string }): Promise<{ status: number; body: T; headers: Headers }>;
  /** Pushes the tip of `work` to the main of `agent` (or of another repository name), as a git client would (no rules). */
  push(agent: string, work: Workdir, commit: Oid): Promise<void>;
  /** The mirror rows (without their commit and times), and memoryFiles of main's tip: always equal. */
  mirrorAndTip(agent: string): Promise<{ rows: MemoryFile[]; expected: MemoryFile[] }>;
}

export function apiFixture(db: SqlAdapter, memory: Partial<MemoryRulesConfig> = {}): ApiFixture {
  const config: MemoryRulesConfig = { blockLayout: "letta", blockPolicy: "strict", ...memory };
  const mirror = new MemoryMirror(db);
  const store = new MemoryBlobStore();
  const repositories = new Repositories(store, new ManifestStore(db), {
    compaction: false,
    inTransaction: mirrorInTransaction(mirror, config.blockLayout),
  });
  const shared = new SharedRepositories(db);
  const identities: Record<string, { org: string; admin: boolean }> = {
    [KEY]: { org: ORG, admin: false },
    [ADMIN_KEY]: { org: ORG, admin: true },
    [OTHER_ORG_KEY]: { org: "other", admin: false },
  };
  const app = createApp({
    accounts: { authenticate: async (key) => identities[key] },
    repositories: gitTargets({ repositories, shared, memory: config }),
    memoryApi: new MemoryApi({ repositories, shared, mirror, memory: config }),
    trustOrgHeader: false,
    maxBodyBytes: 1 << 20,
    logger: createLogger("error", (text) => void process.stderr.write(text)),
    metrics: new Metrics({ version: "test", commit: "test" }),
    readinessChecks: [],
  });
  const request: ApiFixture["request"] = async (method, path, options = {}) =>
    app.request(`http://x${path}`, {
      method,
      headers: { authorization: `Bearer ${options.key ?? KEY}`, ...(options.body !== undefined && { "content-type": "application/json" }), ...options.headers },
      body: options.body === undefined ? undefined : typeof options.body === "string" || options.body instanceof Uint8Array ? (options.body as string) : JSON.stringify(options.body),
    });
  const pushed = new Map<string, Oid[]>();
  return {
    store,
    repositories,
    mirror,
    request,
    async json(method, path, options) {
      const response = await request(method, path, options);
      return { status: response.status, body: (await response.json()) as never, headers: response.headers };
    },
    async push(agent, work, commit) {
      const snapshot = await repositories.snapshot(ORG, agent);
      const old = snapshot.refs.get(MAIN) ?? ZERO_OID;
      const have = pushed.get(agent) ?? [];
      const result = await repositories.push(ORG, agent, { updates: [{ ref: MAIN, oldOid: old, newOid: commit }], pack: work.pack([commit], have) });
      if (!result.statuses[0].ok) throw new Error(`push refused: ${JSON.stringify(result.statuses)}`);
      pushed.set(agent, [...have, commit]);
    },
    async mirrorAndTip(agent) {
      const snapshot = await repositories.snapshot(ORG, agent);
      const tip = snapshot.refs.get(MAIN);
      const expected = tip === undefined ? [] : memoryFiles(snapshot.objects, commitTree(snapshot.objects, tip), config.blockLayout, memoryPolicyOf(agent));
      const rows = (await mirror.files(ORG, agent)).map(({ commit: _c, generation: _g, updatedAt: _u, ...file }) => file);
      return { rows, expected: [...expected].sort((a, b) => (a.path < b.path ? -1 : 1)) };
    },
  };
}
