import { describe, expect, test } from "bun:test";
import { EventLog } from "../../src/db/events.ts";
import { SharedRepositories } from "../../src/db/shared-repositories.ts";
import { sharedRepositoryName } from "../../src/repo/layout.ts";
import { EventStreams } from "../../src/events/streams.ts";
import { LocalTransport } from "../../src/events/transport.ts";
import { recordCommit, sampleEvent, take, type EventInstance } from "../events/support.ts";
import { databasePerTest, DATABASE_KINDS } from "./databases.ts";

for (const kind of DATABASE_KINDS) {
  describe.skipIf(kind.skip !== undefined)(`EventLog on ${kind.name}`, () => {
    const database = databasePerTest(kind);
    const instance = async (retention = { maxAgeMs: 86_400_000, generationsPerAgent: 10 }): Promise<EventInstance> => {
      const db = await database.open();
      return { db, log: new EventLog(db, retention), transport: new LocalTransport() };
    };

    test("reads by cursor: an agent's by generation, whole generations at a time; an organisation's by seq", async () => {
      const events = await instance();
      await recordCommit(events, [sampleEvent("acme", "a", 1), sampleEvent("acme", "a", 1, "refs/tags/t")]);
      await recordCommit(events, [sampleEvent("acme", "b", 1)]);
      await recordCommit(events, [sampleEvent("acme", "a", 3)]);
      expect((await events.log.after({ org: "acme", agent: "a" }, 0)).map((event) => event.generation)).toEqual([1, 1, 3]);
      expect((await events.log.after({ org: "acme", agent: "a" }, 1)).map((event) => event.generation)).toEqual([3]);
      const all = await events.log.after({ org: "acme" }, 0);
      expect(all.map((event) => `${event.agent}${event.generation}`)).toEqual(["a1", "a1", "b1", "a3"]);
      expect((await events.log.after({ org: "acme" }, all[1].seq)).map((event) => event.agent)).toEqual(["b", "a"]);
      expect(await events.log.current({ org: "acme" })).toBe(all[3].seq);
      expect(await events.log.after({ org: "other" }, 0)).toEqual([]);
    });

    test("pruning by count keeps an agent's last generations, and a cursor before them has missed events", async () => {
      const events = await instance();
      for (let generation = 1; generation <= 64; generation++) await recordCommit(events, [sampleEvent("acme", "a", generation)]);
      await recordCommit(events, [sampleEvent("acme", "b", 1)]);
      const kept = await events.log.after({ org: "acme", agent: "a" }, 0);
      expect(kept.map((event) => event.generation)).toEqual([55, 56, 57, 58, 59, 60, 61, 62, 63, 64]);
      expect(await events.log.missed({ org: "acme", agent: "a" }, 53)).toBe(true);
      expect(await events.log.missed({ org: "acme", agent: "a" }, 54)).toBe(false);
      expect(await events.log.missed({ org: "acme", agent: "b" }, 0)).toBe(false);
      expect(await events.log.missed({ org: "acme" }, kept[0].seq - 2)).toBe(true);
      expect(await events.log.missed({ org: "acme" }, kept[0].seq - 1)).toBe(false);
    });

    test("pruning by age removes old events of every agent and notes their horizons", async () => {
      const events = await instance();
      await recordCommit(events, [sampleEvent("acme", "a", 1)]);
      await recordCommit(events, [sampleEvent("other", "b", 4)]);
      expect(await events.log.pruneOld(Date.now() - 60_000)).toBe(0);
      expect(await events.log.pruneOld(Date.now() + 2 * 86_400_000)).toBe(2);
      expect(await events.log.missed({ org: "acme", agent: "a" }, 0)).toBe(true);
      expect(await events.log.missed({ org: "other", agent: "b" }, 3)).toBe(true);
      expect(await events.log.missed({ org: "other", agent: "b" }, 4)).toBe(false);
    });

    test("a shared repository's events reach the agents attached at the commit, ordered by their generation then seq; pruned, they are missed there", async () => {
      const events = await instance();
      const { id } = await new SharedRepositories(events.db).create("acme", "plans");
      await new SharedRepositories(events.db).attach("acme", "a", id);
      const repo = sharedRepositoryName(id);
      // The agent's generation is its manifest's, read in the shared repository's commit.
      const ownCommit = async (generation: number) => {
        await events.db.execute(
          `INSERT INTO manifests (org, repo, generation, head, refs, packs, updated_at) VALUES ('acme', 'a', $1, 'refs/heads/main', '{}', '[]', $2)
           ON CONFLICT (org, repo) DO UPDATE SET generation = excluded.generation`,
          [generation, new Date().toISOString()],
        );
        await recordCommit(events, [sampleEvent("acme", "a", generation)]);
      };
      const sharedCommit = async (generation: number) => {
        const { agent: _, ...change } = sampleEvent("acme", "a", generation);
        await events.db.transaction((tx) => events.log.append(tx, repo, [change]));
      };
      await ownCommit(1);
      await sharedCommit(1);
      await ownCommit(2);
      await sharedCommit(2);
      const all = await events.log.read({ org: "acme", agent: "a" }, 0);
      const [s1, s2] = [all[1].event.seq, all[3].event.seq];
      expect(all.map(({ cursor }) => cursor)).toEqual([1, { generation: 1, seq: s1 }, 2, { generation: 2, seq: s2 }]);
      expect(all[1].event).toMatchObject({ repository: { id, name: "plans" }, agents: ["a"] });
      expect((await events.log.read({ org: "acme", agent: "a" }, { generation: 1, seq: s1 })).map(({ cursor }) => cursor)).toEqual([2, { generation: 2, seq: s2 }]);
      expect(await events.log.current({ org: "acme", agent: "a" })).toEqual({ generation: 2, seq: s2 });
      expect((await events.log.read({ org: "acme", agent: repo }, 0)).map(({ cursor }) => cursor)).toEqual([1, 2]);
      expect(await events.log.after({ org: "acme", agent: "b" }, 0)).toEqual([]);
      expect(await events.log.after({ org: "acme" }, 0)).toHaveLength(4);

      expect(await events.log.pruneOld(Date.now() + 2 * 86_400_000)).toBe(4);
      expect(await events.log.missed({ org: "acme", agent: "a" }, 2)).toBe(true);
      expect(await events.log.missed({ org: "acme", agent: "a" }, { generation: 2, seq: s2 })).toBe(false);
      expect(await events.log.missed({ org: "acme", agent: repo }, 1)).toBe(true);
      expect(await events.log.missed({ org: "acme", agent: repo }, 2)).toBe(false);
      expect((await events.db.query("SELECT seq FROM event_recipients")).length).toBe(0);
    });

    test("a subscription whose cursor is past the retention window is told to resync, then follows", async () => {
      const events = await instance();
      await recordCommit(events, [sampleEvent("acme", "a", 1)]);
      await events.db.execute("INSERT INTO manifests (org, repo, generation, head, refs, packs, updated_at) VALUES ('acme', 'a', 2, 'refs/heads/main', '{}', '[]', $1)", [
        new Date().toISOString(),
      ]);
      await recordCommit(events, [sampleEvent("acme", "a", 2)]);
      await events.log.pruneOld(Date.now() + 2 * 86_400_000);
      const streams = new EventStreams(events.log, events.transport);
      const subscription = streams.subscribe({ org: "acme", agent: "a" }, { after: 0 });
      expect(await take(subscription, 1)).toEqual([{ kind: "resync", cursor: 2 }]);
      await recordCommit(events, [sampleEvent("acme", "a", 3)]);
      expect(await take(subscription, 1)).toMatchObject([{ kind: "event", cursor: 3, lastOfCursor: true }]);
      streams.close();
    });
  });
}
