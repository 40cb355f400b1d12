/**
 * Shared memory through the real git client, on two `stategit serve` instances over one storage
 * and database (slow: a few hundred git processes): repositories created and attached with
 * `stategit repo`, cloned and pushed by each agent at its own URL, with the same guarantees as an
 * agent's own memory (DESIGN.md, Contract, "Shared memory").
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { GitClient, type StategitServer } from "../conformance/harness.ts";
import { tempDir } from "../support/git.ts";
import {
  expectOutcomesHonoured,
  FILE_AND_SQLITE,
  finalState,
  GCS_AND_POSTGRES,
  memoryNote,
  PushingClient,
  seedMain,
  startInstances,
  stopInstances,
  summarise,
  type Deployment,
} from "./support.ts";

setDefaultTimeout(180_000);

const AGENTS = 8;
const ROUNDS = 2;

for (const backend of [FILE_AND_SQLITE, GCS_AND_POSTGRES]) {
  describe.skipIf(backend.skip !== undefined)(`shared memory on two instances, ${backend.name} (slow)`, () => {
    let deployment: Deployment | undefined;
    let instances: StategitServer[] = [];
    let scratch: { path: string; cleanup: () => void } | undefined;
    let git: GitClient;

    beforeAll(async () => {
      scratch = tempDir("stategit-shared-");
      git = new GitClient(2, scratch.path);
      deployment = await backend.deploy();
      instances = await startInstances(deployment, 2);
    });
    afterAll(async () => {
      await stopInstances(instances);
      await deployment?.cleanup();
      scratch?.cleanup();
    });

    const repo = async (...args: string[]) => (await instances[0].admin(["repo", ...args])).stdout.trim();
    /** A new shared repository attached to `agents`; its id. */
    async function sharedWith(name: string, agents: readonly string[]): Promise<string> {
      const id = await repo("create", instances[0].org, name);
      for (const agent of agents) await repo("attach", instances[0].org, agent, name);
      return id;
    }

    test(`${AGENTS} agents race pushes to one repository through their own URLs on both instances: every acknowledged push survives, stale ones get fetch first`, async () => {
      const agents = Array.from({ length: AGENTS }, () => instances[0].newAgent("racer"));
      const name = "race";
      const id = await sharedWith(name, agents);
      const url = (agent: number, instance: number) => instances[instance % instances.length].url(agents[agent], { repository: name });

      // Never written: it clones empty.
      const empty = git.dir("empty");
      await git.ok(["clone", "-q", url(0, 1), empty]);
      expect(await git.lsRemote(url(0, 1))).toEqual(new Map());

      const seed = await seedMain(git, url(0, 0));
      const clients = await Promise.all(agents.map((_, i) => PushingClient.create(git, `client${i}`)));
      await Promise.all(
        clients.map(async (client, i) => {
          for (let round = 0; round < ROUNDS; round++) expect(await client.round(url(i, i + round))).toBe(true);
        }),
      );
      const outcomes = clients.flatMap((client) => client.outcomes);
      console.log(`${backend.name}: ${summarise(outcomes)}`);
      expectOutcomesHonoured(outcomes, await finalState(git, url(3, 1)), seed, false);
      expect(outcomes.some((outcome) => outcome.ref === "refs/heads/main" && outcome.verdict === "ok")).toBe(true);
      const served = await git.lsRemote(url(0, 0));
      for (let i = 0; i < AGENTS; i++) for (const instance of [0, 1]) expect(await git.lsRemote(url(i, instance))).toEqual(served);

      // A push on top of what another agent has since replaced is stale, whichever instance it goes to.
      const behind = git.dir("behind");
      await git.ok(["clone", "-q", url(1, 1), behind]);
      await clients[2].round(url(2, 0));
      await Bun.write(`${behind}/late.md`, memoryNote("late", "too late"));
      await git.ok(["-C", behind, "add", "late.md"]);
      await git.ok(["-C", behind, "commit", "-q", "-m", "late"]);
      const stale = await git.fails(["-C", behind, "push", "--porcelain", "origin", "HEAD:refs/heads/main"]);
      expect(stale.stdout).toContain("(fetch first)");

      // The maintenance commands cover shared repositories: sound, compactable, mirrored.
      const org = instances[0].org;
      expect((await instances[0].admin(["fsck", "--org", org])).stdout).not.toContain("repositories/");
      const gc = (await instances[0].admin(["gc", "--org", org, "--repository", id])).stdout;
      expect(gc).toMatch(new RegExp(`^${org}/repositories/${id}: merged \\d+ packs[^\n]*\ngc: 1 repositories, `));
      expect((await instances[0].admin(["reindex", "--repository", id])).stdout).toBe("reindex: 1 repositories, 0 fixed, 0 rows rewritten\n");
      expect(await git.lsRemote(url(5, 1))).toEqual(await git.lsRemote(url(2, 0)));
    });

    test("the shared-memory rules: every .md needs name and description, no index needed; a refused push changes nothing", async () => {
      const agent = instances[0].newAgent("writer");
      const name = "rules";
      await sharedWith(name, [agent]);
      const work = git.dir("rules");
      await git.ok(["clone", "-q", instances[1].url(agent, { repository: name }), work]);
      await Bun.write(`${work}/docs/plans/q3.md`, memoryNote("q3", "plans"));
      await git.ok(["-C", work, "add", "-A"]);
      await git.ok(["-C", work, "commit", "-q", "-m", "nested, without index"]);
      await git.ok(["-C", work, "push", "-q", "origin", "main"]);

      await Bun.write(`${work}/loose.md`, "no front matter\n");
      await git.ok(["-C", work, "add", "-A"]);
      await git.ok(["-C", work, "commit", "-q", "-m", "loose"]);
      const refused = await git.fails(["-C", work, "push", "origin", "main"]);
      expect(refused.stderr).toContain("remote: loose.md:");
      expect((await git.lsRemote(instances[0].url(agent, { repository: name }))).get("refs/heads/main")).toBe(await git.revParse(work, "HEAD~1"));
    });

    test("only attached agents reach it, at 404 otherwise; detached, it is gone for that agent; delete waits for the last detach", async () => {
      const [reader, other, stranger] = [instances[0].newAgent("reader"), instances[0].newAgent("other"), instances[0].newAgent("stranger")];
      const name = "private";
      await sharedWith(name, [reader, other]);
      await seedMain(git, instances[1].url(other, { repository: name }));
      const writer = await PushingClient.create(git, "private-writer");
      expect(await writer.round(instances[0].url(reader, { repository: name }))).toBe(true);
      expect(writer.outcomes.map((outcome) => outcome.verdict)).toEqual(["ok", "ok"]);

      const notFound = async (url: string) => expect((await git.fails(["ls-remote", url])).stderr).toMatch(/not found|404/);
      await notFound(instances[1].url(stranger, { repository: name }));
      await notFound(instances[1].url(reader, { repository: "no-such-repository" }));
      await repo("detach", instances[0].org, reader, name);
      for (const instance of instances) await notFound(instance.url(reader, { repository: name }));
      expect((await git.lsRemote(instances[1].url(other, { repository: name }))).size).toBeGreaterThan(0);

      const refused = await instances[0].admin(["repo", "delete", instances[0].org, name]).catch((error: Error) => error);
      expect(String(refused)).toContain("detach it first");
      await repo("detach", instances[0].org, other, name);
      await repo("delete", instances[0].org, name);
      await notFound(instances[1].url(other, { repository: name }));
      // The name can be used again, and the new repository starts empty.
      await sharedWith(name, [other]);
      expect(await git.lsRemote(instances[1].url(other, { repository: name }))).toEqual(new Map());
    });
  });
}
