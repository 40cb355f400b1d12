import { join } from "node:path";
import type { SqlAdapter } from "../../src/db/adapter.ts";
import { EventLog } from "../../src/db/events.ts";
import { openDatabase } from "../../src/db/open.ts";
import { PollingTransport } from "../../src/events/polling-transport.ts";
import { PostgresTransport } from "../../src/events/postgres-transport.ts";
import { LocalTransport, type EventTransport } from "../../src/events/transport.ts";
import { DATABASE_KINDS } from "../db/databases.ts";
import { tempDir } from "../support/git.ts";
import type { EventInstance } from "./support.ts";
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
