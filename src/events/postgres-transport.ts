import postgres from "postgres";
import { isValidName } from "../names.ts";
import { isRepositoryName } from "../repo/layout.ts";
import { Listeners, type EventNotice, type EventTransport, type NoticeListener } from "./transport.ts";

/** The NOTIFY channel; its payload is `{org, agent, generation}` as JSON (at most about 300 bytes), `agent` a repository name. */
export const EVENTS_CHANNEL = "stategit_events";

/**
 * PostgreSQL LISTEN/NOTIFY: the NOTIFY is sent inside the commit's transaction, so PostgreSQL
 * delivers it to every listening session (this instance's included) only when, and as soon as, the
 * commit succeeds. One connection of its own listens; after it reconnects (notices sent meanwhile
 * are lost), subscribers are told to re-read everything.
 */
export class PostgresTransport implements EventTransport {
  private readonly listeners = new Listeners();

  private constructor(private readonly sql: postgres.Sql) {}

  static async start(url: string): Promise<PostgresTransport> {
    const sql = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} });
    const transport = new PostgresTransport(sql);
    let connected = false;
    try {
      await sql.listen(EVENTS_CHANNEL, (payload) => transport.received(payload), () => {
        if (connected) transport.listeners.emit(undefined);
        connected = true;
      });
    } catch (error) {
      await sql.end({ timeout: 0 });
      throw error;
    }
    return transport;
  }

  /** This instance hears its own NOTIFY like any other's. */
  committed(): void {}

  subscribe(listener: NoticeListener): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }

  /** A payload another writer sent; anything malformed is read as "re-read everything". */
  private received(payload: string): void {
    this.listeners.emit(parseNotice(payload));
  }
}

function parseNotice(payload: string): EventNotice | undefined {
  try {
    const { org, agent, generation } = JSON.parse(payload) as Partial<EventNotice>;
    if (typeof org === "string" && typeof agent === "string" && isValidName(org) && isRepositoryName(agent) && Number.isSafeInteger(generation)) {
      return { org, agent, generation: generation as number };
    }
  } catch {}
  return undefined;
}
