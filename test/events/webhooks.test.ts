import { afterEach, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { Accounts } from "../../src/db/accounts.ts";
import { EventLog } from "../../src/db/events.ts";
import { SharedRepositories } from "../../src/db/shared-repositories.ts";
import { WebhookStore } from "../../src/db/webhooks.ts";
import { LocalTransport } from "../../src/events/transport.ts";
import { WebhookDeliverer, type WebhookMetrics } from "../../src/events/webhooks.ts";
import { sharedRepositoryName } from "../../src/repo/layout.ts";
import { databasePerTest, DATABASE_KINDS } from "../db/databases.ts";
import { EVENT_DEADLINE_MS, recordCommit, sampleEvent, type EventInstance } from "./support.ts";

interface Received {
  seq: number;
  agent?: string;
  repository?: { id: string; name: string };
  agents?: string[];
  generation: number;
  eventId: string | null;
  signatureValid: boolean;
  status: number;
}

const SECRET = "s3cret";

/** A local HTTP receiver; `answer` decides each delivery's status. */
function receiver(answer: (event: { seq: number; agent: string; generation: number }, attempt: number) => number = () => 200) {
  const received: Received[] = [];
  const attempts = new Map<number, number>();
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const body = await request.text();
      const event = JSON.parse(body);
      const attempt = (attempts.get(event.seq) ?? 0) + 1;
      attempts.set(event.seq, attempt);
      const expected = `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
      const status = answer(event, attempt);
      received.push({
        seq: event.seq,
        agent: event.agent,
        repository: event.repository,
        agents: event.agents,
        generation: event.generation,
        eventId: request.headers.get("x-stategit-event-id"),
        signatureValid: request.headers.get("x-stategit-signature") === expected,
        status,
      });
      return new Response(null, { status });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/hook`, received, stop: () => server.stop(true) };
}

class CountingMetrics implements WebhookMetrics {
  counts = { delivered: 0, failed: 0, gaveUp: 0, failing: 0 };
  delivered() {
    this.counts.delivered++;
  }
  failed() {
    this.counts.failed++;
  }
  gaveUp() {
    this.counts.gaveUp++;
  }
  failing(count: number) {
    this.counts.failing = count;
  }
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + EVENT_DEADLINE_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

const delivered = (received: Received[]) => received.filter((one) => one.status === 200).map((one) => `${one.agent}@${one.generation}`);

for (const kind of DATABASE_KINDS) {
  describe.skipIf(kind.skip !== undefined)(`webhooks on ${kind.name}`, () => {
    const cleanups: (() => unknown)[] = [];
    // Registered before the database's own: deliverers stop before it is closed.
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    const database = databasePerTest(kind);

    async function setup(answer?: Parameters<typeof receiver>[0]) {
      const db = await database.open();
      await new Accounts(db).createOrg("acme");
      const instance: EventInstance = { db, log: new EventLog(db), transport: new LocalTransport() };
      const hook = receiver(answer);
      cleanups.push(hook.stop);
      const store = new WebhookStore(db);
      const id = await store.add("acme", hook.url, SECRET);
      const deliverer = (retryForMs = 60_000) => {
        const metrics = new CountingMetrics();
        const running = new WebhookDeliverer(store, { retryForMs, userAgent: "stategit/test", metrics, onError: (error) => console.error(error) });
        running.start(instance.transport);
        cleanups.push(() => running.stop());
        return { running, metrics };
      };
      return { instance, hook, store, id, deliverer };
    }

    test("each event is POSTed once, signed, with its id, in order per agent; other organisations' are not", async () => {
      const { instance, hook, deliverer } = await setup();
      const { metrics } = deliverer();
      await recordCommit(instance, [sampleEvent("acme", "a", 1)]);
      await recordCommit(instance, [sampleEvent("other", "a", 1)]);
      await recordCommit(instance, [sampleEvent("acme", "b", 1), sampleEvent("acme", "b", 1, "refs/tags/t")]);
      await recordCommit(instance, [sampleEvent("acme", "a", 2)]);
      await waitFor("four deliveries recorded", () => metrics.counts.delivered >= 4);
      expect(hook.received.every((one) => one.signatureValid && one.eventId === String(one.seq))).toBe(true);
      expect(delivered(hook.received).filter((name) => name.startsWith("a@"))).toEqual(["a@1", "a@2"]);
      expect(delivered(hook.received).filter((name) => name.startsWith("b@"))).toEqual(["b@1", "b@1"]);
      expect(new Set(hook.received.map((one) => one.seq)).size).toBe(4);
      expect(metrics.counts.delivered).toBe(4);
    });

    test("a shared repository's event is POSTed once, naming the repository and the agents attached when it was committed", async () => {
      const { instance, hook, deliverer } = await setup();
      const shared = new SharedRepositories(instance.db);
      const { id } = await shared.create("acme", "plans");
      for (const agent of ["b", "a"]) await shared.attach("acme", agent, id);
      const { metrics } = deliverer();
      const repo = sharedRepositoryName(id);
      const { agent: _, ...change } = sampleEvent("acme", "a", 1);
      await instance.db.transaction((tx) => instance.log.append(tx, repo, [change]));
      instance.transport.committed({ org: "acme", agent: repo, generation: 1 });
      await recordCommit(instance, [sampleEvent("acme", "a", 1)]);
      await waitFor("both deliveries recorded", () => metrics.counts.delivered >= 2);
      const [sharedDelivery] = hook.received.filter((one) => one.repository !== undefined);
      expect(sharedDelivery).toMatchObject({ repository: { id, name: "plans" }, agents: ["a", "b"], generation: 1, signatureValid: true, status: 200 });
      expect(sharedDelivery.agent).toBeUndefined();
      expect(hook.received.map((one) => one.agent ?? "plans").sort()).toEqual(["a", "plans"]);
      expect(metrics.counts.delivered).toBe(2);
    });

    test("a failing delivery is retried with backoff and blocks the agent's later events until it succeeds; list shows the failure", async () => {
      const { instance, hook, store, deliverer } = await setup((event, attempt) => (event.generation === 1 && attempt <= 2 ? 500 : 200));
      const { metrics } = deliverer();
      await recordCommit(instance, [sampleEvent("acme", "a", 1)]);
      await recordCommit(instance, [sampleEvent("acme", "a", 2)]);
      await waitFor("a failed attempt", () => metrics.counts.failed >= 1);
      const [failing] = await store.list("acme");
      expect(failing).toMatchObject({ lastStatus: 500, lastError: "HTTP 500" });
      expect(failing.failingSince).toBeInstanceOf(Date);
      await waitFor("both events delivered and recorded", () => metrics.counts.delivered >= 2);
      expect(hook.received.map((one) => `${one.generation}:${one.status}`)).toEqual(["1:500", "1:500", "1:200", "2:200"]);
      const [recovered] = await store.list("acme");
      expect(recovered).toMatchObject({ lastStatus: 200, lastError: undefined, failingSince: undefined });
      expect(metrics.counts).toMatchObject({ delivered: 2, failed: 2, gaveUp: 0 });
    });

    test("an event that keeps failing past --webhook-retry-for is given up, and the next is delivered", async () => {
      const { instance, hook, store, deliverer } = await setup((event) => (event.generation === 1 ? 503 : 200));
      const { metrics } = deliverer(1);
      await recordCommit(instance, [sampleEvent("acme", "a", 1)]);
      await recordCommit(instance, [sampleEvent("acme", "a", 2)]);
      await waitFor("the second event delivered and recorded", () => metrics.counts.delivered >= 1);
      expect(hook.received.map((one) => `${one.generation}:${one.status}`)).toEqual(["1:503", "1:503", "2:200"]);
      expect(metrics.counts).toMatchObject({ failed: 1, gaveUp: 1, delivered: 1 });
      expect((await store.list("acme"))[0].failingSince).toBeUndefined();
    });

    test("a restarted deliverer resumes after the last delivered event; several deliver each event once", async () => {
      const { instance, hook, deliverer } = await setup();
      const first = deliverer();
      await recordCommit(instance, [sampleEvent("acme", "a", 1)]);
      await waitFor("the first delivery recorded", () => first.metrics.counts.delivered >= 1);
      await first.running.stop();
      for (let generation = 2; generation <= 11; generation++) {
        await recordCommit(instance, [sampleEvent("acme", "a", generation)]);
        await recordCommit(instance, [sampleEvent("acme", "b", generation)]);
      }
      expect(hook.received.length).toBe(1);
      const [second, third] = [deliverer(), deliverer()];
      await waitFor("every event delivered and recorded", () => second.metrics.counts.delivered + third.metrics.counts.delivered >= 20);
      expect(second.metrics.counts.delivered + third.metrics.counts.delivered).toBe(20);
      expect(hook.received.length).toBe(21);
      expect(delivered(hook.received).filter((name) => name.startsWith("a@"))).toEqual(Array.from({ length: 11 }, (_, i) => `a@${i + 1}`));
      expect(delivered(hook.received).filter((name) => name.startsWith("b@"))).toEqual(Array.from({ length: 10 }, (_, i) => `b@${i + 2}`));
    });

    test("a removed webhook gets nothing more", async () => {
      const { instance, hook, store, id, deliverer } = await setup();
      expect(await store.remove(id)).toBe(true);
      expect(await store.remove(id)).toBe(false);
      const { running } = deliverer();
      await recordCommit(instance, [sampleEvent("acme", "a", 1)]);
      await running.stop();
      expect(hook.received).toEqual([]);
      expect(await store.list()).toEqual([]);
    });
  });
}
