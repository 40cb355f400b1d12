/**
 * Shared memory through the real git client, on two `stategit serve` instances over one storage
 * and database (slow: a few hundred git processes): repositories created and attached with
 * `stategit repo`, cloned and pushed by each agent at its own URL, with the same guarantees as an
 * agent's own memory (DESIGN.md, Contract, "Shared memory").
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  deploymentPerDescribe,
  expectOutcomesHonoured,
  FILE_AND_SQLITE,
  finalState,
  GCS_AND_POSTGRES,
  memoryNote,
  PushingClient,
  seedMain,
  summarise,
} from "./support.ts";

setDefaultTimeout(180_000);

const AGENTS = 8;
const ROUNDS = 2;

for (const backend of [FILE_AND_SQLITE, GCS_AND_POSTGRES]) {
  describe.skipIf(backend.skip !== undefined)(`shared memory on two instances, ${backend.name} (slow)`, () => {
    const running = deploymentPerDescribe(backend, 2);

    const repo = async (...args: string[]) => (await running.instances[0].admin(["repo", ...args])).stdout.trim();
    /** A new shared repository attached to `agents`; its id. */
    async function sharedWith(name: string, agents: readonly string[]): Promise<string> {
      const id = await repo("create", running.instances[0].org, name);
      for (const agent of agents) await repo("attach", running.instances[0].org, agent, name);
      return id;
    }

    test(`${AGENTS} agents race pushes to one repository through their own URLs on both instances: every acknowledged push survives, stale ones get fetch first`, async () => {
      const agents = Array.from({ length: AGENTS }, () => running.instances[0].newAgent("racer"));
      const name = "race";
      const id = await sharedWith(name, agents);
      const url = (agent: number, instance: number) => running.instances[instance % running.instances.length].url(agents[agent], { repository: name });

      // Never written: it clones empty.
      const empty = running.git.dir("empty");
      await running.git.ok(["clone", "-q", url(0, 1), empty]);
      expect(await running.git.lsRemote(url(0, 1))).toEqual(new Map());

      const seed = await seedMain(running.git, url(0, 0));
      const clients = await Promise.all(agents.map((_, i) => PushingClient.create(running.git, `client${i}`)));
      await Promise.all(
        clients.map(async (client, i) => {
          for (let round = 0; round < ROUNDS; round++) expect(await client.round(url(i, i + round))).toBe(true);
        }),
      );
      const outcomes = clients.flatMap((client) => client.outcomes);
      console.log(`${backend.name}: ${summarise(outcomes)}`);
      expectOutcomesHonoured(outcomes, await finalState(running.git, url(3, 1)), seed, false);
      expect(outcomes.some((outcome) => outcome.ref === "refs/heads/main" && outcome.verdict === "ok")).toBe(true);
      const served = await running.git.lsRemote(url(0, 0));
      for (let i = 0; i < AGENTS; i++) for (const instance of [0, 1]) expect(await running.git.lsRemote(url(i, instance))).toEqual(served);

      // A push on top of what another agent has since replaced is stale, whichever instance it goes to.
      const behind = running.git.dir("behind");
      await running.git.ok(["clone", "-q", url(1, 1), behind]);
      await clients[2].round(url(2, 0));
      await Bun.write(`${behind}/late.md`, memoryNote("late", "too late"));
      await running.git.ok(["-C", behind, "add", "late.md"]);
      await running.git.ok(["-C", behind, "commit", "-q", "-m", "late"]);
      const stale = await running.git.fails(["-C", behind, "push", "--porcelain", "origin", "HEAD:refs/heads/main"]);
      expect(stale.stdout).toContain("(fetch first)");

      // The maintenance commands cover shared repositories: sound, compactable, mirrored.
      const org = running.instances[0].org;
      expect((await running.instances[0].admin(["fsck", "--org", org])).stdout).not.toContain("repositories/");
      const gc = (await running.instances[0].admin(["gc", "--org", org, "--repository", id])).stdout;
      expect(gc).toMatch(new RegExp(`^${org}/repositories/${id}: merged \\d+ packs[^\n]*\ngc: 1 repositories, `));
      expect((await running.instances[0].admin(["reindex", "--repository", id])).stdout).toBe("reindex: 1 repositories, 0 fixed, 0 rows rewritten\n");
      expect(await running.git.lsRemote(url(5, 1))).toEqual(await running.git.lsRemote(url(2, 0)));
    });

    test("the shared-memory rules: every .md needs name and description, no index needed; a refused push changes nothing", async () => {
      const agent = running.instances[0].newAgent("writer");
      const name = "rules";
      await sharedWith(name, [agent]);
      const work = running.git.dir("rules");
      await running.git.ok(["clone", "-q", running.instances[1].url(agent, { repository: name }), work]);
      await Bun.write(`${work}/docs/plans/q3.md`, memoryNote("q3", "plans"));
      await running.git.ok(["-C", work, "add", "-A"]);
      await running.git.ok(["-C", work, "commit", "-q", "-m", "nested, without index"]);
      await running.git.ok(["-C", work, "push", "-q", "origin", "main"]);

      await Bun.write(`${work}/loose.md`, "no front matter\n");
      await running.git.ok(["-C", work, "add", "-A"]);
      await running.git.ok(["-C", work, "commit", "-q", "-m", "loose"]);
      const refused = await running.git.fails(["-C", work, "push", "origin", "main"]);
      expect(refused.stderr).toContain("remote: loose.md:");
      expect((await running.git.lsRemote(running.instances[0].url(agent, { repository: name }))).get("refs/heads/main")).toBe(await running.git.revParse(work, "HEAD~1"));
    });

    test("only attached agents reach it, at 404 otherwise; detached, it is gone for that agent; delete waits for the last detach", async () => {
      const [reader, other, stranger] = [running.instances[0].newAgent("reader"), running.instances[0].newAgent("other"), running.instances[0].newAgent("stranger")];
      const name = "private";
      await sharedWith(name, [reader, other]);
      await seedMain(running.git, running.instances[1].url(other, { repository: name }));
      const writer = await PushingClient.create(running.git, "private-writer");
      expect(await writer.round(running.instances[0].url(reader, { repository: name }))).toBe(true);
      expect(writer.outcomes.map((outcome) => outcome.verdict)).toEqual(["ok", "ok"]);

      const notFound = async (url: string) => expect((await running.git.fails(["ls-remote", url])).stderr).toMatch(/not found|404/);
      await notFound(running.instances[1].url(stranger, { repository: name }));
      await notFound(running.instances[1].url(reader, { repository: "no-such-repository" }));
      await repo("detach", running.instances[0].org, reader, name);
      for (const instance of running.instances) await notFound(instance.url(reader, { repository: name }));
      expect((await running.git.lsRemote(running.instances[1].url(other, { repository: name }))).size).toBeGreaterThan(0);

      const refused = await running.instances[0].admin(["repo", "delete", running.instances[0].org, name]).catch((error: Error) => error);
      expect(String(refused)).toContain("detach it first");
      await repo("detach", running.instances[0].org, other, name);
      await repo("delete", running.instances[0].org, name);
      await notFound(running.instances[1].url(other, { repository: name }));
      // The name can be used again, and the new repository starts empty.
      await sharedWith(name, [other]);
      expect(await running.git.lsRemote(running.instances[1].url(other, { repository: name }))).toEqual(new Map());
    });
  });
}
