import { afterAll, describe, expect, test } from "bun:test";
import type { SqlAdapter } from "../../src/db/adapter.ts";
import { EventLog } from "../../src/db/events.ts";
import { MAX_EVENT_PATHS } from "../../src/events/change-event.ts";
import { MemoryMirror } from "../../src/db/mirror.ts";
import { deploymentRepositories } from "../../src/db/repositories.ts";
import { SharedRepositories } from "../../src/db/shared-repositories.ts";
import { ZERO_OID, type Oid } from "../../src/git/oid.ts";
import type { RefUpdate } from "../../src/git/refname.ts";
import { MemoryApi } from "../../src/http/memory-api.ts";
import { MemoryBlobStore } from "../../src/storage/memory.ts";
import { databasePerTest, DATABASE_KINDS } from "../db/databases.ts";
import { Workdir } from "../repo/support.ts";

const MAIN = "refs/heads/main";
const workdirs: Workdir[] = [];
afterAll(() => workdirs.forEach((work) => work.cleanup()));

function setup(db: SqlAdapter) {
  const repositories = deploymentRepositories(db, new MemoryBlobStore(), "letta", { compaction: false });
  const log = new EventLog(db);
  const api = new MemoryApi({ repositories, shared: new SharedRepositories(db), mirror: new MemoryMirror(db), memory: { blockLayout: "letta", blockPolicy: "strict" } });
  const work = new Workdir();
  workdirs.push(work);
  const push = async (updates: RefUpdate[], pack: Uint8Array) => {
    const result = await repositories.push("acme", "agent-1", { updates, pack });
    expect(result.statuses.every((status) => status.ok)).toBe(true);
  };
  return { repositories, log, api, work, push, events: () => log.after({ org: "acme", agent: "agent-1" }, 0) };
}

const human = "---\ndescription: who the user is\n---\nAda\n";

for (const kind of DATABASE_KINDS) {
  describe.skipIf(kind.skip !== undefined)(`change events of commits on ${kind.name}`, () => {
    const database = databasePerTest(kind);

    test("a push of two refs is one event per ref, sharing the generation, with the changed paths and their labels", async () => {
      const { work, push, events } = setup(await database.open());
      const first = work.commit({ "system/human.md": human, "notes/todo.md": "- a\n", "data.bin": "x" }, "first");
      await push(
        [
          { ref: MAIN, oldOid: ZERO_OID, newOid: first },
          { ref: "refs/tags/v1", oldOid: ZERO_OID, newOid: first },
        ],
        work.pack([first]),
      );
      const recorded = await events();
      expect(recorded.map((event) => [event.ref, event.generation])).toEqual([
        [MAIN, 1],
        ["refs/tags/v1", 1],
      ]);
      expect(recorded[0]).toMatchObject({
        org: "acme",
        agent: "agent-1",
        before: null,
        after: first,
        commit: { id: first, message: "first\n" },
        source: "git",
        paths: [
          { path: "data.bin", change: "added" },
          { path: "notes/todo.md", change: "added" },
          { path: "system/human.md", label: "human", change: "added" },
        ],
      });
      expect(recorded[0].paths[0]).not.toHaveProperty("label");
      expect(recorded[0].commit?.author.email).toBeString();
      expect(recorded[1].seq).toBeGreaterThan(recorded[0].seq);
    });

    test("modified and deleted paths, the old id, and a deleted ref without a commit", async () => {
      const { work, push, events } = setup(await database.open());
      const first = work.commit({ "system/human.md": human, "system/old.md": "---\ndescription: d\n---\nx\n" });
      await push([{ ref: MAIN, oldOid: ZERO_OID, newOid: first }, { ref: "refs/heads/topic", oldOid: ZERO_OID, newOid: first }], work.pack([first]));
      work.commit({ "system/human.md": human.replace("Ada", "Grace") });
      const removed = Bun.spawnSync(["git", "rm", "-q", "system/old.md"], { cwd: work.path });
      expect(removed.exitCode).toBe(0);
      const second = work.commit({});
      await push([{ ref: MAIN, oldOid: first, newOid: second }], work.pack([second], [first]));
      await push([{ ref: "refs/heads/topic", oldOid: first, newOid: ZERO_OID }], new Uint8Array(0));
      const [, , changed, deleted] = await events();
      expect(changed).toMatchObject({ generation: 2, before: first, after: second });
      expect(changed.paths).toEqual([
        { path: "system/human.md", label: "human", change: "modified" },
        { path: "system/old.md", label: "old", change: "deleted" },
      ]);
      expect(deleted).toMatchObject({ generation: 3, ref: "refs/heads/topic", before: first, after: null, commit: null });
      expect(deleted.paths.every((path) => path.change === "deleted")).toBe(true);
    });

    test("an API write is source api, with its author and message", async () => {
      const { api, events } = setup(await database.open());
      await api.writeBlock("acme", "agent-1", {
        label: "human",
        update: { value: "Ada\n", description: "who" },
        author: { name: "Service", email: "svc@example.com" },
        message: "Remember Ada",
        isAdmin: false,
      });
      const [event] = await events();
      expect(event).toMatchObject({
        generation: 1,
        ref: MAIN,
        source: "api",
        commit: { author: { name: "Service", email: "svc@example.com" }, message: "Remember Ada\n" },
        paths: [{ path: "system/human.md", label: "human", change: "added" }],
      });
    });

    test("past MAX_EVENT_PATHS changed paths, the event lists the first ones and says it left the rest out", async () => {
      const { work, push, events } = setup(await database.open());
      const files = Object.fromEntries(Array.from({ length: MAX_EVENT_PATHS + 1 }, (_, i) => [`notes/${String(i).padStart(4, "0")}.md`, `${i}\n`]));
      const commit = work.commit(files);
      await push([{ ref: MAIN, oldOid: ZERO_OID, newOid: commit }], work.pack([commit]));
      const [event] = await events();
      expect(event.paths.length).toBe(MAX_EVENT_PATHS);
      expect(event.paths.at(-1)?.path).toBe(`notes/${String(MAX_EVENT_PATHS - 1).padStart(4, "0")}.md`);
      expect(event.paths_truncated).toBe(true);
    });

    test("the event is written in the commit's transaction: when it cannot be, nothing is committed", async () => {
      const db = await database.open();
      const { repositories, work } = setup(db);
      await db.execute("DROP TABLE events");
      const commit = work.commit({ "notes/a.md": "a\n" });
      const pushed = repositories.push("acme", "agent-1", { updates: [{ ref: MAIN, oldOid: ZERO_OID, newOid: commit }], pack: work.pack([commit]) });
      await expect(pushed).rejects.toThrow();
      expect((await repositories.snapshot("acme", "agent-1")).manifest.generation).toBe(0);
      expect(await new MemoryMirror(db).files("acme", "agent-1")).toEqual([]);
    });

    test("compaction changes no refs and records no event", async () => {
      const { repositories, work, push, events } = setup(await database.open());
      let tip: Oid = ZERO_OID;
      for (let i = 0; i < 3; i++) {
        const next = work.commit({ [`notes/${i}.md`]: `${i}\n` });
        await push([{ ref: MAIN, oldOid: tip, newOid: next }], work.pack([next], tip === ZERO_OID ? [] : [tip]));
        tip = next;
      }
      const result = await repositories.compact("acme", "agent-1", { maxPacks: 1, gracePeriodMs: 0, force: true });
      expect(result.mergedPacks).toBe(3);
      expect((await events()).map((event) => event.generation)).toEqual([1, 2, 3]);
    });
  });
}
