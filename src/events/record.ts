import type { SqlClient } from "../db/adapter.ts";
import type { EventLog } from "../db/events.ts";
import type { BlockLayout } from "../blocks/layout.ts";
import type { TransactionWork } from "../repo/repository.ts";
import { changeEvents } from "./change-event.ts";
import { EVENTS_CHANNEL } from "./postgres-transport.ts";
import type { EventNotice } from "./transport.ts";

/**
 * Tells other processes, from inside the commit's transaction, that events were recorded. On
 * PostgreSQL a NOTIFY, which is delivered when (and only if) the transaction commits; SQLite has
 * no such thing, and its other processes poll the table instead.
 */
export async function announceInTransaction(tx: SqlClient, notice: EventNotice): Promise<void> {
  if (tx.dialect === "postgres") await tx.query("SELECT pg_notify($1, $2)", [EVENTS_CHANNEL, JSON.stringify(notice)]);
}

/** The events' part of every commit that changes refs: their rows and the NOTIFY, in the commit's own transaction. */
export function eventsInTransaction(log: EventLog, blockLayout: BlockLayout): TransactionWork {
  return (pending) => {
    const events = changeEvents(pending, blockLayout);
    const notice: EventNotice = { org: pending.org, agent: pending.repo, generation: pending.generation };
    return async (tx) => {
      await log.append(tx, pending.repo, events);
      await announceInTransaction(tx, notice);
    };
  };
}
