import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { SqlAdapter } from "../../src/db/adapter.ts";
import { EventLog } from "../../src/db/events.ts";
import { openDatabase } from "../../src/db/open.ts";
import { PollingTransport } from "../../src/events/polling-transport.ts";
import { PostgresTransport } from "../../src/events/postgres-transport.ts";
import { LocalTransport, type EventNotice, type EventTransport } from "../../src/events/transport.ts";
import { DATABASE_KINDS } from "../db/databases.ts";
import { tempDir } from "../support/git.ts";
import { EVENT_DEADLINE_MS, recordCommit, sampleEvent, type EventInstance } from "./support.ts";
import { describeTransportContract, type TransportSetup } from "./transport-contract.ts";

/** Instances on one database URL, each with its own connection and transport; all closed by cleanup. */
function instancesOn(url: string, openTransport: (log: EventLog) => Promise<EventTransport>, dropDatabase: () => Promise<void>): TransportSetup {
  const opened: { db: SqlAdapter; transport: EventTransport }[] = [];
  const open = async (): Promise<EventInstance> => {
    const db = await openDatabase(url);
    const log = new EventLog(db);
    const transport = await openTransport(log);
    opened.push({ db, transport });
    return { db, log, transport };
  };
  return {
    first: open,
    another: open,
    cleanup: async () => {
      for (const { db, transport } of opened.splice(0)) {
        await transport.close();
        await db.close();
      }
      await dropDatabase();
    },
  };
}

describeTransportContract("in-process (sqlite::memory:)", undefined, async () => {
  const db = await openDatabase("sqlite::memory:");
  const instance: EventInstance = { db, log: new EventLog(db), transport: new LocalTransport() };
  return { first: async () => instance, another: async () => instance, cleanup: () => db.close() };
});

describeTransportContract("SQLite polling", undefined, async () => {
  const dir = tempDir("stategit-events-");
  // A short interval keeps the test quick; the server polls once a second.
  return instancesOn(
    `sqlite:${join(dir.path, "db.sqlite")}`,
    (log) => PollingTransport.start(log, { intervalMs: 20, onError: (error) => console.error(error) }),
    async () => dir.cleanup(),
  );
});

const postgres = DATABASE_KINDS.find((kind) => kind.name === "postgres")!;
describeTransportContract("PostgreSQL LISTEN/NOTIFY", postgres.skip, async () => {
  const database = await postgres.create();
  return instancesOn(database.url, () => PostgresTransport.start(database.url), () => database.cleanup());
});

describe.skipIf(postgres.skip !== undefined)("PostgreSQL LISTEN/NOTIFY after its connection is lost", () => {
  test("the transport listens again, and tells subscribers to re-read what they may have missed", async () => {
    const database = await postgres.create();
    const name = `stategit_listen_${crypto.randomUUID().slice(0, 8)}`;
    const url = new URL(database.url);
    url.searchParams.set("application_name", name);
    const db = await openDatabase(database.url);
    const transport = await PostgresTransport.start(url.toString());
    try {
      const instance: EventInstance = { db, log: new EventLog(db), transport };
      const heard: (EventNotice | undefined)[] = [];
      const stop = transport.subscribe((notice) => heard.push(notice));
      const terminated = await db.query<{ done: boolean }>("SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1", [name]);
      expect(terminated.length).toBe(1);
      const deadline = Date.now() + EVENT_DEADLINE_MS;
      // Commits go on meanwhile; once listening again, the next notice arrives.
      for (let generation = 1; !heard.some((notice) => notice?.generation !== undefined) && Date.now() < deadline; generation++) {
        await recordCommit(instance, [sampleEvent("acme", "agent-1", generation)]);
        await Bun.sleep(50);
      }
      expect(heard[0]).toBeUndefined();
      expect(heard.some((notice) => notice?.agent === "agent-1")).toBe(true);
      stop();
    } finally {
      await transport.close();
      await db.close();
      await database.cleanup();
    }
  });
});
