/** Shared repositories in the database, with the repositories of a deployment: attachments resolved with their generation, writes only while the repository exists. */
import { afterAll, describe, expect, test } from "bun:test";
import { ManifestStore } from "../../src/db/manifests.ts";
import { deploymentRepositories } from "../../src/db/repositories.ts";
import { SharedRepositories } from "../../src/db/shared-repositories.ts";
import { sharedRepositoryName } from "../../src/repo/layout.ts";
import { MemoryBlobStore } from "../../src/storage/memory.ts";
import { Workdir } from "../repo/support.ts";
import { databasePerTest, DATABASE_KINDS } from "./databases.ts";

const work = new Workdir();
afterAll(() => work.cleanup());
const MAIN = "refs/heads/main";
const ZERO = "0".repeat(40);

for (const kind of DATABASE_KINDS) {
  describe.skipIf(kind.skip !== undefined)(`shared repositories on ${kind.name}`, () => {
    const database = databasePerTest(kind);

    test("an attachment resolves to the repository and its manifest generation in one read; others resolve to nothing", async () => {
      const db = await database.open();
      const shared = new SharedRepositories(db);
      const repositories = deploymentRepositories(db, new MemoryBlobStore(), "letta", { compaction: false });
      const { id } = await shared.create("acme", "notes");
      expect(await shared.resolveAttached("acme", "agent-1", "notes")).toBeUndefined();
      await shared.attach("acme", "agent-1", id);
      expect(await shared.resolveAttached("acme", "agent-1", "notes")).toEqual({ id, repo: sharedRepositoryName(id), generation: undefined });
      for (const [org, agent, name] of [["other", "agent-1", "notes"], ["acme", "agent-2", "notes"], ["acme", "agent-1", id]]) {
        expect(await shared.resolveAttached(org, agent, name)).toBeUndefined();
      }

      const commit = work.commit({ "plan.md": "---\nname: plan\ndescription: the plan\n---\nship\n" });
      const pushed = await repositories.push("acme", sharedRepositoryName(id), { updates: [{ ref: MAIN, oldOid: ZERO, newOid: commit }], pack: work.pack([commit]) });
      expect(pushed.statuses).toEqual([{ ref: MAIN, ok: true }]);
      expect(await shared.resolveAttached("acme", "agent-1", "notes")).toEqual({ id, repo: sharedRepositoryName(id), generation: 1 });
      // A shared repository is nobody's agent.
      expect(await db.query("SELECT agent_id FROM agents")).toEqual([]);
    });

    test("a write to a shared repository that no longer exists fails and leaves no manifest row", async () => {
      const db = await database.open();
      const shared = new SharedRepositories(db);
      const repositories = deploymentRepositories(db, new MemoryBlobStore(), "letta", { compaction: false });
      const { id } = await shared.create("acme", "gone");
      await shared.delete("acme", id, repositories);
      const commit = work.commit({ "late.md": "---\nname: late\ndescription: too late\n---\n" });
      const push = repositories.push("acme", sharedRepositoryName(id), { updates: [{ ref: MAIN, oldOid: ZERO, newOid: commit }], pack: work.pack([commit]) });
      await expect(push).rejects.toMatchObject({ code: "repository.unknown" });
      expect(await new ManifestStore(db).generation("acme", sharedRepositoryName(id))).toBeUndefined();
    });
  });
}
