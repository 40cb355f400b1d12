/** Shared pieces of the event tests: events recorded as a commit records them, and waiting for what a stream yields. */
import type { SqlAdapter } from "../../src/db/adapter.ts";
import type { EventLog } from "../../src/db/events.ts";
import type { ChangeEvent } from "../../src/events/change-event.ts";
import { announceInTransaction } from "../../src/events/record.ts";
import type { StreamItem } from "../../src/events/streams.ts";
import type { EventTransport } from "../../src/events/transport.ts";

/** One server's view of the events: its database connection, log and transport. */
export interface EventInstance {
  db: SqlAdapter;
  log: EventLog;
  transport: EventTransport;
}

/** Waiting longer than this for an event is a failure, not a slow machine: it keeps a broken test from hanging. */
export const EVENT_DEADLINE_MS = 20_000;

/** An event of an agent's own memory. */
type AgentEvent = ChangeEvent & { agent: string };

export function sampleEvent(org: string, agent: string, generation: number, ref = "refs/heads/main"): AgentEvent {
  return { org, agent, generation, ref, before: null, after: null, commit: null, paths: [], source: "api" };
}

/** Records `events` (one commit's) in a transaction of `instance`, as the commit's work does, and tells its transport after. */
export async function recordCommit(instance: EventInstance, events: AgentEvent[], options: { rollBack?: boolean } = {}): Promise<void> {
  const { org, agent, generation } = events[0];
  const notice = { org, agent, generation };
  await instance.db
    .transaction(async (tx) => {
      await instance.log.append(tx, agent, events);
      await announceInTransaction(tx, notice);
      if (options.rollBack) throw new RolledBack();
    })
    .catch((error: unknown) => {
      if (!(error instanceof RolledBack)) throw error;
    });
  if (!options.rollBack) instance.transport.committed(notice);
}

class RolledBack extends Error {}

/** The next `count` items of a subscription, failing after EVENT_DEADLINE_MS. */
export async function take(subscription: AsyncGenerator<StreamItem>, count: number): Promise<StreamItem[]> {
  const items: StreamItem[] = [];
  const deadline = Bun.sleep(EVENT_DEADLINE_MS).then(() => "deadline" as const);
  while (items.length < count) {
    const next = await Promise.race([subscription.next(), deadline]);
    if (next === "deadline") throw new Error(`only ${items.length} of ${count} items arrived: ${JSON.stringify(items)}`);
    if (next.done) throw new Error(`the subscription ended after ${items.length} of ${count} items`);
    items.push(next.value);
  }
  return items;
}
