import { afterEach, describe, expect, test } from "bun:test";
import { compareCursors } from "../../src/db/events.ts";
import { EventStreams } from "../../src/events/streams.ts";
import type { EventNotice } from "../../src/events/transport.ts";
import { EVENT_DEADLINE_MS, recordCommit, sampleEvent, take, type EventInstance } from "./support.ts";

/** How a contract run gets its instances: `another` shares the first's database (the same instance where only one can exist). */
export interface TransportSetup {
  first(): Promise<EventInstance>;
  another(): Promise<EventInstance>;
  cleanup(): Promise<void>;
}

function noticesOf(instance: EventInstance): { seen: (EventNotice | undefined)[]; next(match: (notice: EventNotice) => boolean): Promise<EventNotice>; stop(): void } {
  const seen: (EventNotice | undefined)[] = [];
  const waiters: { match: (notice: EventNotice) => boolean; resolve: (notice: EventNotice) => void }[] = [];
  const stop = instance.transport.subscribe((notice) => {
    seen.push(notice);
    for (const waiter of [...waiters]) {
      if (notice && waiter.match(notice)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(notice);
      }
    }
  });
  return {
    seen,
    stop,
    next: (match) => {
      const found = seen.find((notice) => notice && match(notice));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        setTimeout(() => reject(new Error(`no such notice within ${EVENT_DEADLINE_MS} ms; seen ${JSON.stringify(seen)}`)), EVENT_DEADLINE_MS).unref();
      });
    },
  };
}

/** The behaviour every EventTransport shares; each transport's test runs it. */
export function describeTransportContract(name: string, skip: string | undefined, makeSetup: () => Promise<TransportSetup>): void {
  describe.skipIf(skip !== undefined)(`EventTransport contract: ${name}${skip ? ` (skipped: ${skip})` : ""}`, () => {
    let setup: TransportSetup | undefined;
    const started = async () => (setup ??= await makeSetup());
    afterEach(async () => {
      await setup?.cleanup();
      setup = undefined;
    });

    test("a committed event's notice reaches the subscribers of another instance", async () => {
      const a = await (await started()).first();
      const b = await setup!.another();
      const notices = noticesOf(b);
      await recordCommit(a, [sampleEvent("acme", "agent-1", 1)]);
      expect(await notices.next((notice) => notice.agent === "agent-1")).toEqual({ org: "acme", agent: "agent-1", generation: 1 });
      notices.stop();
    });

    test("a rolled-back event is never announced, nor read", async () => {
      const a = await (await started()).first();
      const b = await setup!.another();
      const notices = noticesOf(b);
      const streams = new EventStreams(b.log, b.transport);
      const subscription = streams.subscribe({ org: "acme", agent: "agent-1" }, { after: 0 });
      await recordCommit(a, [sampleEvent("acme", "agent-1", 1)], { rollBack: true });
      await recordCommit(a, [sampleEvent("acme", "agent-1", 2)]);
      await notices.next((notice) => notice.generation === 2);
      expect(notices.seen.some((notice) => notice?.generation === 1)).toBe(false);
      const [item] = await take(subscription, 1);
      expect(item).toMatchObject({ kind: "event", cursor: 2, event: { generation: 2 } });
      streams.close();
      notices.stop();
    });

    test("after unsubscribing, a listener hears nothing more", async () => {
      const a = await (await started()).first();
      const b = await setup!.another();
      const gone = noticesOf(b);
      gone.stop();
      const staying = noticesOf(b);
      await recordCommit(a, [sampleEvent("acme", "agent-1", 1)]);
      await staying.next((notice) => notice.generation === 1);
      expect(gone.seen).toEqual([]);
      staying.stop();
    });

    test("a stream on another instance yields every event of the organisation once, in commit order", async () => {
      const a = await (await started()).first();
      const b = await setup!.another();
      const streams = new EventStreams(b.log, b.transport);
      const subscription = streams.subscribe({ org: "acme" }, { after: 0 });
      const commits = [
        [sampleEvent("acme", "agent-1", 1)],
        [sampleEvent("other", "agent-1", 1)],
        [sampleEvent("acme", "agent-2", 1), sampleEvent("acme", "agent-2", 1, "refs/tags/v1")],
        [sampleEvent("acme", "agent-1", 2)],
      ];
      for (const events of commits) await recordCommit(a, events);
      const items = await take(subscription, 4);
      expect(items.map((item) => (item.kind === "event" ? `${item.event.agent}@${item.event.generation} ${item.event.ref}` : item.kind))).toEqual([
        "agent-1@1 refs/heads/main",
        "agent-2@1 refs/heads/main",
        "agent-2@1 refs/tags/v1",
        "agent-1@2 refs/heads/main",
      ]);
      const cursors = items.map((item) => item.cursor);
      expect([...cursors].sort(compareCursors)).toEqual(cursors);
      streams.close();
    });

    test("close resolves, and a closed stream set ends its subscriptions", async () => {
      const b = await (await started()).another();
      const streams = new EventStreams(b.log, b.transport);
      const subscription = streams.subscribe({ org: "acme" });
      const ended = subscription.next();
      streams.close();
      expect((await ended).done).toBe(true);
    });
  });
}
