import { describe, expect, test } from "bun:test";
import type { SqlAdapter } from "../../src/db/adapter.ts";
import { EventLog } from "../../src/db/events.ts";
import { MemoryMirror } from "../../src/db/mirror.ts";
import { deploymentRepositories } from "../../src/db/repositories.ts";
import { SharedRepositories } from "../../src/db/shared-repositories.ts";
import { EventStreams } from "../../src/events/streams.ts";
import { LocalTransport } from "../../src/events/transport.ts";
import { createApp } from "../../src/http/app.ts";
import { gitTargets } from "../../src/http/git-targets.ts";
import { createLogger } from "../../src/http/logger.ts";
import { MemoryApi } from "../../src/http/memory-api.ts";
import { Metrics } from "../../src/http/metrics.ts";
import { MemoryBlobStore } from "../../src/storage/memory.ts";
import { databasePerTest, DATABASE_KINDS } from "../db/databases.ts";
import { EVENT_DEADLINE_MS } from "../events/support.ts";

const KEYS: Record<string, { org: string; admin: boolean }> = { acme_key: { org: "acme", admin: false }, other_key: { org: "other", admin: false } };

function server(db: SqlAdapter, heartbeatMs = 60_000, maxStreams?: number) {
  const metrics = new Metrics({ version: "test", commit: "test" });
  const transport = new LocalTransport();
  const streams = new EventStreams(new EventLog(db), transport, maxStreams);
  const repositories = deploymentRepositories(db, new MemoryBlobStore(), "letta", { compaction: false, eventTransport: transport });
  const shared = new SharedRepositories(db);
  const memory = { blockLayout: "letta", blockPolicy: "strict" } as const;
  const app = createApp({
    accounts: { authenticate: async (key) => KEYS[key] },
    repositories: gitTargets({ repositories, shared, memory }),
    memoryApi: new MemoryApi({ repositories, shared, mirror: new MemoryMirror(db), memory }),
    events: { streams, heartbeatMs },
    trustOrgHeader: false,
    maxBodyBytes: 1 << 20,
    logger: createLogger("error", (text) => void process.stderr.write(text)),
    metrics,
    readinessChecks: [],
  });
  const request = (path: string, options: { key?: string; headers?: Record<string, string>; method?: string; body?: unknown } = {}) =>
    app.request(`http://x${path}`, {
      method: options.method ?? "GET",
      headers: { authorization: `Bearer ${options.key ?? "acme_key"}`, ...options.headers },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  const write = async (org: "acme" | "other", agent: string, value: string) => {
    const response = await request(`/v1/agents/${agent}/blocks/human`, { method: "PUT", key: `${org}_key`, body: { value, description: "who" } });
    expect(response.status).toBe(200);
  };
  return { request, write, streams, metrics };
}

/** Reads an SSE body until `until` holds for the text so far. */
async function readUntil(response: Response, until: (text: string) => boolean): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Bun.sleep(EVENT_DEADLINE_MS).then(() => "deadline" as const);
  try {
    while (!until(text)) {
      const next = await Promise.race([reader.read(), deadline]);
      if (next === "deadline") throw new Error(`the stream did not show what was expected; it sent:\n${text}`);
      if (next.done) return text;
      text += decoder.decode(next.value, { stream: true });
    }
    return text;
  } finally {
    reader.releaseLock();
  }
}

interface Frame {
  event?: string;
  id?: string;
  data?: any;
}

function frames(text: string): Frame[] {
  return text
    .split("\n\n")
    .map((block) => {
      const frame: Frame = {};
      for (const line of block.split("\n")) {
        const [, field, value] = /^([a-z]+): ?(.*)$/.exec(line) ?? [];
        if (field === "event") frame.event = value;
        if (field === "id") frame.id = value;
        if (field === "data") frame.data = JSON.parse(value);
      }
      return frame;
    })
    .filter((frame) => frame.event !== undefined);
}

const changes = (text: string) => frames(text).filter((frame) => frame.event === "change");

for (const kind of DATABASE_KINDS) {
  describe.skipIf(kind.skip !== undefined)(`event streams (SSE) on ${kind.name}`, () => {
    const database = databasePerTest(kind);

    test("the agent stream sends each committed change with its generation as id, and resumes after Last-Event-ID", async () => {
      const { request, write } = server(await database.open());
      const live = await request("/v1/agents/a1/events");
      expect(live.status).toBe(200);
      expect(live.headers.get("content-type")).toStartWith("text/event-stream");
      await write("acme", "a1", "one");
      await write("acme", "a2", "elsewhere");
      await write("acme", "a1", "two");
      const sent = changes(await readUntil(live, (text) => changes(text).length >= 2));
      expect(sent.map((frame) => [frame.id, frame.data.agent, frame.data.generation, frame.data.source])).toEqual([
        ["1", "a1", 1, "api"],
        ["2", "a1", 2, "api"],
      ]);
      expect(sent[1].data.paths).toEqual([{ path: "system/human.md", label: "human", change: "modified" }]);
      await live.body!.cancel();

      await write("acme", "a1", "three");
      const resumed = await request("/v1/agents/a1/events", { headers: { "last-event-id": "1" } });
      expect(changes(await readUntil(resumed, (text) => changes(text).length >= 2)).map((frame) => frame.id)).toEqual(["2", "3"]);
      await resumed.body!.cancel();
      const byQuery = await request("/v1/agents/a1/events?last_event_id=2");
      expect(changes(await readUntil(byQuery, (text) => changes(text).length >= 1)).map((frame) => frame.id)).toEqual(["3"]);
      await byQuery.body!.cancel();
    });

    test("without Last-Event-ID a stream starts at the present: earlier changes are not sent, any after the headers are", async () => {
      const { request, write } = server(await database.open());
      await write("acme", "a1", "before");
      const live = await request("/v1/agents/a1/events");
      await write("acme", "a1", "after");
      expect(changes(await readUntil(live, (text) => changes(text).length >= 1)).map((frame) => frame.id)).toEqual(["2"]);
      await live.body!.cancel();
    });

    test("the organisation stream has the key's organisation's events only, with their seq as id", async () => {
      const { request, write } = server(await database.open());
      const live = await request("/v1/events?last_event_id=0");
      await write("other", "a1", "not for acme");
      await write("acme", "a1", "one");
      await write("acme", "a2", "two");
      const sent = changes(await readUntil(live, (text) => changes(text).length >= 2));
      expect(sent.map((frame) => [frame.data.org, frame.data.agent])).toEqual([
        ["acme", "a1"],
        ["acme", "a2"],
      ]);
      expect(sent.map((frame) => Number(frame.id))).toEqual(sent.map((frame) => frame.data.seq));
      expect(Number(sent[1].id)).toBeGreaterThan(Number(sent[0].id));
      await live.body!.cancel();
    });

    test("a shared repository's change is on its own stream, the organisation's once, and the streams of the agents attached at that moment only", async () => {
      const { request, write } = server(await database.open());
      const json = async (method: string, path: string, body: unknown) => {
        const response = await request(path, { method, body });
        expect(response.status).toBeLessThan(300);
        return (await response.json()) as any;
      };
      const { id } = await json("POST", "/v1/repositories", { name: "plans" });
      await json("POST", "/v1/agents/a1/repositories", { repository_id: id });
      await write("acme", "a1", "one");
      const [attached, unattached, organisation, repository] = await Promise.all(
        ["/v1/agents/a1/events", "/v1/agents/a2/events", "/v1/events", `/v1/repositories/${id}/events`].map((path) => request(path)),
      );
      await json("PUT", `/v1/repositories/${id}/blocks/plan`, { value: "ship it\n", description: "the plan" });
      // Later writes of both agents: what each stream sent before them is all it has of the shared change.
      await write("acme", "a2", "elsewhere");
      await write("acme", "a1", "two");

      const shared = { org: "acme", repository: { id, name: "plans" }, agents: ["a1"], generation: 1, ref: "refs/heads/main", source: "api" };
      const onAgent = changes(await readUntil(attached, (text) => changes(text).length >= 2));
      expect(onAgent[0].data).toMatchObject({ ...shared, paths: [{ path: "plan.md", change: "added" }] });
      expect(onAgent[0].data.agent).toBeUndefined();
      // The agent's own generation then (1), and the event's seq: the agent's next own event is generation 2.
      expect(onAgent.map((frame) => frame.id)).toEqual([`1:${onAgent[0].data.seq}`, "2"]);
      expect(onAgent[1].data).toMatchObject({ agent: "a1", generation: 2 });
      expect(changes(await readUntil(unattached, (text) => changes(text).length >= 1)).map((frame) => frame.data.agent)).toEqual(["a2"]);
      const onOrganisation = changes(await readUntil(organisation, (text) => changes(text).length >= 3));
      expect(onOrganisation.map((frame) => frame.data.agent ?? frame.data.repository.name)).toEqual(["plans", "a2", "a1"]);
      expect(onOrganisation[0].data).toMatchObject(shared);
      const onRepository = changes(await readUntil(repository, (text) => changes(text).length >= 1));
      expect(onRepository.map((frame) => [frame.id, frame.data.repository.id])).toEqual([["1", id]]);
      for (const stream of [attached, unattached, organisation, repository]) await stream.body!.cancel();

      // Resuming: before the shared change, or after it.
      const resumed = async (lastEventId: string, count: number) => {
        const response = await request("/v1/agents/a1/events", { headers: { "last-event-id": lastEventId } });
        const ids = changes(await readUntil(response, (text) => changes(text).length >= count)).map((frame) => frame.id);
        await response.body!.cancel();
        return ids;
      };
      expect(await resumed("1", 2)).toEqual([onAgent[0].id, "2"]);
      expect(await resumed(onAgent[0].id!, 1)).toEqual(["2"]);

      // Detached, the agent no longer gets the repository's changes; those it had stay on its stream.
      expect((await request(`/v1/agents/a1/repositories/${id}`, { method: "DELETE" })).status).toBe(204);
      await json("PUT", `/v1/repositories/${id}/blocks/plan`, { value: "shipped\n", description: "the plan" });
      await write("acme", "a1", "three");
      expect(await resumed("2", 1)).toEqual(["3"]);
      expect(await resumed("0", 4)).toEqual(["1", onAgent[0].id, "2", "3"]);

      const wrong = await request("/v1/events", { headers: { "last-event-id": "1:2" } });
      expect([wrong.status, ((await wrong.json()) as any).error.code]).toEqual([400, "cursor.invalid"]);
      expect((await request("/v1/repositories/repo-unknown/events")).status).toBe(404);
    });

    test("authentication as the JSON API's; a malformed Last-Event-ID is a 400", async () => {
      const { request } = server(await database.open());
      const anonymous = await request("/v1/events", { key: "nobody" });
      expect(anonymous.status).toBe(401);
      expect(((await anonymous.json()) as any).error.code).toBe("auth.required");
      for (const id of ["x", "-1", "1.5", "99999999999999999999", "1:", ":2", "1:2:3", "1:99999999999999999999"]) {
        const bad = await request("/v1/agents/a1/events", { headers: { "last-event-id": id } });
        expect(bad.status).toBe(400);
        expect(((await bad.json()) as any).error.code).toBe("cursor.invalid");
      }
      expect((await request("/v1/agents/..bad/events")).status).toBe(404);
    });

    test("past the limit of open streams, another is refused with 503 until one closes", async () => {
      const { request } = server(await database.open(), 60_000, 2);
      const open = [await request("/v1/events"), await request("/v1/agents/a1/events")];
      const refused = await request("/v1/events");
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as any).error.code).toBe("events.too-many");
      await open[0].body!.cancel();
      let next = await request("/v1/events");
      for (const deadline = Date.now() + EVENT_DEADLINE_MS; next.status === 503 && Date.now() < deadline; next = await request("/v1/events")) await Bun.sleep(10);
      expect(next.status).toBe(200);
      await next.body!.cancel();
      await open[1].body!.cancel();
    });

    test("an idle stream sends heartbeats, and ends when the streams are closed (shutdown)", async () => {
      const { request, streams, metrics } = server(await database.open(), 10);
      const live = await request("/v1/events");
      expect(await readUntil(live, (text) => text.includes(": heartbeat\n\n"))).toStartWith("retry: ");
      streams.close();
      const rest = await readUntil(live, () => false);
      expect(changes(rest)).toEqual([]);
      // Streams are timed apart from the API's requests, whose latencies they would swamp.
      expect(metrics.text().body).toContain('stategit_http_request_duration_seconds_count{operation="events"} 1\n');
    });
  });
}
