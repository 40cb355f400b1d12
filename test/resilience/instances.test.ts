/**
 * Many instances, one bucket, one database (slow: three `stategit serve` processes per backend
 * and a few hundred git processes; about a minute in all on two cores).
 *
 * Every instance serves every repository: the manifest row is the one source of truth, so a push
 * acknowledged through one instance must be what the others serve at once, and concurrent pushes
 * through different instances must each be either in the final history or cleanly refused.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  deploymentPerDescribe,
  expectOutcomesHonoured,
  FILE_AND_SQLITE,
  finalState,
  GCS_AND_POSTGRES,
  PushingClient,
  summarise,
  seedMain,
} from "./support.ts";

setDefaultTimeout(180_000);

const INSTANCES = 3;
const CLIENTS = 4;
const ROUNDS = 4;
const SUCCESSIVE_PUSHES = 20;
/** GCS allows one write per second to one object name; the emulator enforces it in these tests. */
const GCS_OBJECT_WRITE_INTERVAL_MS = 1000;

for (const backend of [FILE_AND_SQLITE, GCS_AND_POSTGRES]) {
  describe.skipIf(backend.skip !== undefined)(`${INSTANCES} instances on ${backend.name} (slow)`, () => {
    const running = deploymentPerDescribe(backend, INSTANCES, (deployment) =>
      deployment.emulator?.setFaults({ objectWriteIntervalMs: GCS_OBJECT_WRITE_INTERVAL_MS }),
    );

    test("concurrent pushes through different instances: each acknowledged one is in the history, each refused one cleanly, nothing else", async () => {
      const agent = running.instances[0].newAgent("concurrent");
      const urls = running.instances.map((instance) => instance.url(agent));
      const seed = await seedMain(running.git, urls[0]);
      const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => PushingClient.create(running.git, `client${i}`)));
      await Promise.all(
        clients.map(async (client, i) => {
          for (let round = 0; round < ROUNDS; round++) expect(await client.round(urls[(i + round) % INSTANCES])).toBe(true);
        }),
      );
      const outcomes = clients.flatMap((client) => client.outcomes);
      console.log(`${backend.name}: ${summarise(outcomes)}`);
      const state = await finalState(running.git, urls[1]);
      expectOutcomesHonoured(outcomes, state, seed, false);
      expect(outcomes.some((outcome) => outcome.ref === "refs/heads/main" && outcome.verdict === "ok")).toBe(true);
      for (const url of urls) expect(await running.git.lsRemote(url)).toEqual(await running.git.lsRemote(urls[0]));
    });

    test("a push acknowledged by one instance is what every other instance serves at once", async () => {
      const agent = running.instances[0].newAgent("visible");
      const urls = running.instances.map((instance) => instance.url(agent));
      await seedMain(running.git, urls[0]);
      const client = await PushingClient.create(running.git, "writer");
      const reader = running.git.dir("reader");
      await running.git.ok(["init", "-q", "--bare", reader]);
      for (let round = 0; round < 2 * INSTANCES; round++) {
        const through = round % INSTANCES;
        expect(await client.round(urls[through])).toBe(true);
        const pushed = client.outcomes.at(-2)!;
        expect(pushed.verdict).toBe("ok");
        for (const [i, url] of urls.entries()) {
          if (i === through) continue;
          expect((await running.git.lsRemote(url)).get("refs/heads/main")).toBe(pushed.commit);
          await running.git.ok(["-C", reader, "fetch", "-q", url, "main"]);
          expect(await running.git.revParse(reader, "FETCH_HEAD")).toBe(pushed.commit);
        }
      }
    });

    test(`${SUCCESSIVE_PUSHES} pushes in quick succession to one repository, alternating instances, all accepted`, async () => {
      const agent = running.instances[0].newAgent("successive");
      const urls = running.instances.map((instance) => instance.url(agent));
      const rateLimitedBefore = running.deployment.emulator?.stats.rateLimited ?? 0;
      const repo = running.git.dir("quick");
      await running.git.ok(["init", "-q", "-b", "main", repo]);
      for (let i = 0; i < SUCCESSIVE_PUSHES; i++) {
        await Bun.write(`${repo}/log.md`, `push ${i}\n`);
        await running.git.ok(["-C", repo, "add", "log.md"]);
        await running.git.ok(["-C", repo, "commit", "-q", "-m", `push ${i}`]);
        const result = await running.git.run(["-C", repo, "push", "--porcelain", urls[i % INSTANCES], "HEAD:refs/heads/main"]);
        expect({ exitCode: result.exitCode, stderr: result.exitCode === 0 ? "" : result.stderr }).toEqual({ exitCode: 0, stderr: "" });
      }
      expect((await running.git.lsRemote(urls[1])).get("refs/heads/main")).toBe(await running.git.revParse(repo, "HEAD"));
      expect(await running.git.ok(["-C", (await finalState(running.git, urls[2])).clone, "rev-list", "--count", "main"])).toBe(String(SUCCESSIVE_PUSHES));
      if (running.deployment.emulator) expect(running.deployment.emulator.stats.rateLimited - rateLimitedBefore).toBe(0);
    });
  });
}
