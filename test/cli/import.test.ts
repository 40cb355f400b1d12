/**
 * `stategit import` from the sources: repositories of the previous service's layout made by the
 * real git client, imported into a running server's storage and database, then cloned from it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { GitClient, StategitServer } from "../conformance/harness.ts";
import { addBrokenBranch, LegacyBucket, richRepository, SourceRepo } from "../repo/legacy-source.ts";
import { DATABASE_KINDS, type TestDatabase } from "../db/databases.ts";
import { tempDir } from "../support/git.ts";
import { RUNNERS } from "./runners.ts";

const TIMEOUT_MS = 120_000;
const SOURCES = RUNNERS.find((runner) => runner.name === "sources")!;
const cleanups: Array<() => void> = [];
afterAll(() => {
  for (const cleanup of cleanups) cleanup();
});

function stategit(args: string[], cwd: string) {
  const result = Bun.spawnSync([...SOURCES.command, ...args], { cwd, env: { PATH: process.env.PATH ?? "", HOME: cwd }, stdout: "pipe", stderr: "pipe" });
  return { status: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

describe("stategit import, then clone from stategit serve", () => {
  let server: StategitServer;
  let bucket: LegacyBucket;
  let client: GitClient;
  const repo = richRepository();
  const lostBlob = addBrokenBranch(repo, "broken");
  const other = new SourceRepo("master");
  cleanups.push(repo.cleanup, other.cleanup);

  beforeAll(async () => {
    server = await StategitServer.start({ variant: "sources" });
    bucket = new LegacyBucket();
    const scratch = tempDir("stategit-import-client-");
    cleanups.push(bucket.cleanup, scratch.cleanup);
    client = new GitClient(0, scratch.path);
    bucket.put(server.org, "agent-1", repo.path);
    other.commit({ "notes.md": "another agent\n" });
    bucket.put(server.org, "agent-2", other.path);
    bucket.put(server.org, "bad..agent", other.path);
  }, TIMEOUT_MS);
  afterAll(() => server.stop());

  test(
    "prints one line per repository and a summary; the clone has every complete ref and passes fsck",
    async () => {
      const result = await server.admin(["import", "--from", bucket.url]);
      const lines = result.stdout.trimEnd().split("\n");
      expect(lines[0]).toMatch(new RegExp(`^imported ${server.org}/agent-1: 6 refs, \\d+ objects$`));
      expect(lines.slice(1, 4)).toEqual([
        `  skipped refs/heads/broken: missing object ${lostBlob}`,
        `imported ${server.org}/agent-2: 1 ref, 3 objects`,
        "  note: HEAD is refs/heads/master: stategit's HEAD is refs/heads/main",
      ]);
      expect(lines[4]).toStartWith(`skipped ${server.org}/bad..agent: invalid agent id`);
      expect(lines.slice(5)).toEqual(["3 repositories: 2 imported, 1 skipped; 1 ref skipped"]);

      const remote = await client.lsRemote(server.url("agent-1"));
      const expected = repo.refs();
      expected.delete("refs/heads/broken");
      expect(new Map([...remote].filter(([name]) => name !== "HEAD" && !name.endsWith("^{}")))).toEqual(expected);
      const clone = client.dir("clone");
      await client.ok(["clone", "-q", "--mirror", server.url("agent-1"), clone]);
      await client.fsck(clone);
      expect(await client.revParse(clone, "refs/heads/feature")).toBe(repo.run("rev-parse", "feature"));
      expect((await server.admin(["agent", "list", server.org])).stdout).toBe("agent-1\nagent-2\n");

      const again = await server.admin(["import", "--from", bucket.url, "--org", server.org, "--agent", "agent-1"]);
      expect(again.stdout).toBe(`up to date ${server.org}/agent-1\n  skipped refs/heads/broken: missing object ${lostBlob}\n1 repository: 1 up to date; 1 ref skipped\n`);
    },
    TIMEOUT_MS,
  );
});

for (const kind of DATABASE_KINDS) {
  describe.skipIf(kind.skip !== undefined)(`stategit import on ${kind.name}: exit statuses`, () => {
    const work = tempDir("stategit-import-cli-");
    const bucket = new LegacyBucket();
    cleanups.push(work.cleanup, bucket.cleanup);
    let database: TestDatabase;
    beforeAll(async () => {
      database = await kind.create();
    });
    afterAll(() => database.cleanup());
    const importFrom = (...args: string[]) => stategit(["import", ...args, "--storage", `file:${join(work.path, "repos")}`, "--database", database.url], work.path);

    test(
      "1 when a repository failed, after importing the others; 0 on the rerun once it is repaired; 2 for bad usage",
      () => {
        const repo = new SourceRepo();
        cleanups.push(repo.cleanup);
        repo.commit({ "a.md": "a\n" });
        bucket.put("acme", "good", repo.path);
        writeFileSync(join(bucket.put("acme", "corrupt", repo.path), "packed-refs"), "garbage\n");
        const result = importFrom("--from", bucket.url);
        expect(result.status).toBe(1);
        expect(result.stdout).toBe(
          'failed acme/corrupt: packed-refs line 1: unexpected line "garbage"\nimported acme/good: 1 ref, 3 objects\n2 repositories: 1 imported, 1 failed\n',
        );
        bucket.put("acme", "corrupt", repo.path);
        expect(importFrom("--from", bucket.url)).toMatchObject({
          status: 0,
          stdout: "imported acme/corrupt: 1 ref, 3 objects\nup to date acme/good\n2 repositories: 1 imported, 1 up to date\n",
        });

        expect(importFrom("--from", bucket.url, "--agent", "good", "--max-repository-bytes", "100")).toMatchObject({
          status: 0,
          stdout: "up to date acme/good\n1 repository: 1 up to date\n",
        });
        bucket.put("acme", "new", repo.path);
        const tooLarge = importFrom("--from", bucket.url, "--agent", "new", "--max-repository-bytes", "100");
        expect(tooLarge.status).toBe(1);
        expect(tooLarge.stdout).toMatch(/^failed acme\/new: its files hold \d+ bytes, more than the 100 an import reads into memory\n/);

        expect(importFrom("--from", bucket.url, "--org", "nobody")).toEqual({ status: 0, stdout: `no repositories (ORG/AGENT/repo.git/) found under ${bucket.url}\n`, stderr: "" });

        for (const args of [[], ["--from", "s3://bucket"], ["--from", bucket.url, "--max-repository-bytes", "0"], ["--from", bucket.url, "--org", "bad..org"], ["--from", bucket.url, "--agent", "/"]]) {
          const usage = importFrom(...args);
          expect({ status: usage.status, stdout: usage.stdout }).toEqual({ status: 2, stdout: "" });
          expect(usage.stderr).toMatch(/^stategit: import: .+\n$/);
        }
      },
      TIMEOUT_MS,
    );
  });
}
