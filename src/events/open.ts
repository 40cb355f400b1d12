import type { EventLog } from "../db/events.ts";
import { parseDatabaseUrl } from "../db/open.ts";
import { PollingTransport } from "./polling-transport.ts";
import { PostgresTransport } from "./postgres-transport.ts";
import { LocalTransport, type EventTransport } from "./transport.ts";

export interface TransportOptions {
  /** SQLite: how often other processes' events are looked for. */
  pollIntervalMs?: number;
  /** Where failures of background polling go. */
  onError: (error: unknown) => void;
}

/**
 * The transport a database URL calls for, as blob stores are chosen by the storage URL:
 * PostgreSQL → LISTEN/NOTIFY; a SQLite file → this process directly and others by polling;
 * `sqlite::memory:` (no other process can open it) → this process only.
 */
export async function openEventTransport(databaseUrl: string, log: EventLog, options: TransportOptions): Promise<EventTransport> {
  const location = parseDatabaseUrl(databaseUrl);
  if (location.dialect === "postgres") return PostgresTransport.start(location.url);
  if (location.path === ":memory:") return new LocalTransport();
  return PollingTransport.start(log, { intervalMs: options.pollIntervalMs, onError: options.onError });
}
