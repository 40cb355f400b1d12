/** Clone and fetch cases: the real git client against the real server, checked against C git. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { HISTORY_START, advanceMain, agentWithFiles, checkedClone, cloneEmpty, expectedRefs, randomBytes, seedAgent, seededClone } from "./fixtures.ts";
import { commitFiles, countPosts, expect, fastImport, historyStream, sentHeaders, type ConformanceCase, type GitClient } from "./harness.ts";

/** Every local branch and tag of a clone equals the source's (clones keep branches as remote-tracking refs). */
async function expectClonedRefs(git: GitClient, clone: string, source: string): Promise<void> {
  const expected = await expectedRefs(git, source);
  const cloned = new Map<string, string>();
  const listing = await git.ok(["-C", clone, "for-each-ref", "--format=%(objectname) %(refname)", "refs/remotes/origin/", "refs/tags/"]);
  for (const line of listing.split("\n")) {
    const [oid, name] = line.split(" ");
    if (name === "refs/remotes/origin/HEAD") continue;
    cloned.set(name.replace("refs/remotes/origin/", "refs/heads/"), oid);
  }
  const branchesAndTags = new Map([...expected].filter(([name]) => name !== "HEAD" && !name.endsWith("^{}")));
  expect(cloned).toEqual(branchesAndTags);
}

/** A clone of `source` made by C git itself (file://, so the full protocol runs): the oracle. */
async function oracleClone(git: GitClient, source: string, args: string[]): Promise<string> {
  const clone = git.dir("oracle");
  await git.ok(["clone", "-q", ...args, `file://${source}`, clone]);
  return clone;
}

function shallowFile(repo: string): string[] {
  const path = join(repo, ".git", "shallow");
  return existsSync(path) ? readFileSync(path, "utf8").trim().split("\n").sort() : [];
}

/** The commits and shallow boundary of a clone equal the oracle's. */
async function expectSameShape(git: GitClient, clone: string, oracle: string): Promise<void> {
  const commits = (repo: string) => git.ok(["-C", repo, "rev-list", "--all"]);
  expect(await commits(clone)).toBe(await commits(oracle));
  expect(shallowFile(clone)).toEqual(shallowFile(oracle));
}

export const FETCH_CASES: ConformanceCase[] = [
  {
    name: "clone of an empty repository warns, then the first push creates it",
    binary: true,
    async run(context) {
      const { git, server } = context;
      const url = server.url(server.newAgent());
      const clone = await cloneEmpty(git, url);
      // v2's ls-refs=unborn tells the client the default branch of an empty repository.
      if (git.protocol === 2) expect(await git.ok(["-C", clone, "symbolic-ref", "HEAD"])).toBe("refs/heads/main");
      const tip = await commitFiles(git, clone, { "system/human.md": "---\ndescription: the human\n---\nThe human's name is Ada.\n" }, "first");
      await git.ok(["-C", clone, "push", "-q", "origin", "HEAD:refs/heads/main"]);
      expect(await git.lsRemote(url)).toEqual(new Map([["HEAD", tip], ["refs/heads/main", tip]]));
      const second = git.dir("clone");
      await git.ok(["clone", "-q", url, second]);
      expect(readFileSync(join(second, "system/human.md"), "utf8")).toBe("---\ndescription: the human\n---\nThe human's name is Ada.\n");
      await git.fsck(clone);
      await git.fsck(second);
    },
  },
  {
    name: "clone when HEAD's branch is unborn and another branch exists",
    async run(context) {
      const { git } = context;
      const seeded = await seedAgent(context, historyStream({ ref: "refs/heads/feature", count: 3, startTime: HISTORY_START, label: "feature" }));
      const clone = git.dir("clone");
      const result = await git.run(["clone", seeded.url, clone]);
      const oracle = git.dir("oracle");
      const expected = await git.run(["clone", `file://${seeded.source}`, oracle]);
      expect(result.exitCode).toBe(0);
      const warning = "warning: remote HEAD refers to nonexistent ref, unable to checkout";
      expect(expected.stderr).toContain(warning);
      expect(result.stderr).toContain(warning);
      const head = (repo: string) => git.ok(["-C", repo, "symbolic-ref", "HEAD"]);
      expect(await head(clone)).toBe(await head(oracle));
      expect(await git.revParse(clone, "refs/remotes/origin/feature")).toBe(await git.revParse(seeded.source, "feature"));
      await git.fsck(clone);
    },
  },
  {
    name: "full clone of packs read from storage, its pack made by a worker thread",
    binary: true,
    async run(context) {
      const { git, server } = context;
      const seeded = await seedAgent(context);
      // Packs this process indexed (a push) and small ones are sent whole from the request thread;
      // after a restart they are read from storage, and a worker learns what they refer to.
      await server.restart();
      const workerSeconds = async () => {
        const metrics = await (await fetch(`${server.origin}/metrics`)).text();
        return Number(/^stategit_worker_pool_busy_seconds_total (\S+)$/m.exec(metrics)?.[1]);
      };
      const before = await workerSeconds();
      const clone = git.dir("clone");
      await git.ok(["clone", "-q", seeded.url, clone]);
      expect(await workerSeconds()).toBeGreaterThan(before);
      await expectClonedRefs(git, clone, seeded.source);
      expect(await git.revParse(clone, "HEAD")).toBe(await git.revParse(seeded.source, "main"));
      expect(await git.ok(["-C", clone, "symbolic-ref", "HEAD"])).toBe("refs/heads/main");
      expect(readFileSync(join(clone, "main/log.md"), "utf8")).toBe("main entry 12\n");
      const objects = (repo: string) => git.ok(["-C", repo, "rev-list", "--objects", "--all"]).then((text) => text.split("\n").sort());
      expect(await objects(clone)).toEqual(await objects(seeded.source));
      await git.fsck(clone);
    },
  },
  {
    name: "ls-remote --symref lists HEAD's target, every ref and peeled tags",
    async run(context) {
      const { git } = context;
      const seeded = await seedAgent(context);
      const output = await git.ok(["ls-remote", "--symref", seeded.url]);
      expect(output.split("\n")[0]).toBe("ref: refs/heads/main\tHEAD");
      expect(await git.lsRemote(seeded.url)).toEqual(await expectedRefs(git, seeded.source));
      const clone = git.dir("clone");
      await git.ok(["clone", "-q", "--bare", seeded.url, clone]);
      await git.fsck(clone);
    },
  },
  {
    name: "annotated tags follow a fetched branch in the same pack (include-tag)",
    async run(context) {
      const { git } = context;
      const seeded = await seedAgent(context);
      const repo = git.dir("repo");
      await git.ok(["init", "-q", repo]);
      await git.ok(["-C", repo, "remote", "add", "origin", seeded.url]);
      const fetch = await git.traced(["-C", repo, "fetch", "origin", "refs/heads/main:refs/remotes/origin/main"]);
      expect(fetch.exitCode).toBe(0);
      expect(fetch.packets).toContain("include-tag");
      // One fetch request: the tag object came with the commits, no second round to backfill it.
      expect(countPosts(fetch, "git-upload-pack")).toBe(git.protocol === 2 ? 2 : 1);
      expect(await git.ok(["-C", repo, "cat-file", "-t", "refs/tags/v1"])).toBe("tag");
      expect(await git.revParse(repo, "refs/tags/v1")).toBe(await git.revParse(seeded.source, "refs/tags/v1"));
      expect(await git.revParse(repo, "refs/tags/light")).toBe(await git.revParse(seeded.source, "refs/tags/light"));
      // feature-tag points outside main: not followed.
      expect(await git.run(["-C", repo, "rev-parse", "--verify", "--quiet", "refs/tags/feature-tag"]).then((r) => r.exitCode)).not.toBe(0);
      await git.fsck(repo);
    },
  },
  {
    name: "incremental fetch negotiates from the common tip",
    binary: true,
    async run(context) {
      const { git } = context;
      const { clone, ...seeded } = await seededClone(context);
      const oldTip = await git.revParse(clone, "HEAD");
      const newTip = await advanceMain(git, seeded.url, 3, "incremental");
      const fetch = await git.traced(["-C", clone, "fetch", "origin"]);
      expect(fetch.exitCode).toBe(0);
      expect(fetch.packets).toMatch(new RegExp(`< ACK ${oldTip}`));
      expect(await git.revParse(clone, "refs/remotes/origin/main")).toBe(newTip);
      await git.ok(["-C", clone, "merge", "-q", "--ff-only", "origin/main"]);
      expect(readFileSync(join(clone, "incremental/2.md"), "utf8")).toBe("incremental 2\n");
      await git.fsck(clone);
    },
  },
  {
    name: "fetch into a repository with no common history",
    async run(context) {
      const { git } = context;
      const seeded = await seedAgent(context);
      const repo = git.dir("unrelated");
      await git.ok(["init", "-q", repo]);
      await fastImport(git, repo, historyStream({ ref: "refs/heads/local", count: 20, startTime: HISTORY_START + 100 * 86_400, label: "unrelated" }));
      await git.ok(["-C", repo, "fetch", "-q", seeded.url, "refs/heads/*:refs/remotes/server/*"]);
      expect(await git.revParse(repo, "refs/remotes/server/main")).toBe(await git.revParse(seeded.source, "main"));
      expect(await git.revParse(repo, "refs/remotes/server/feature")).toBe(await git.revParse(seeded.source, "feature"));
      expect(await git.ok(["-C", repo, "merge-base", "--all", "local", "server/main"]).catch(() => "")).toBe("");
      await git.fsck(repo);
    },
  },
  {
    name: "a client with 300 local-only commits negotiates over several stateless rounds",
    async run(context) {
      const { git } = context;
      const { clone, ...seeded } = await seededClone(context);
      const base = await git.revParse(clone, "HEAD");
      await fastImport(git, clone, historyStream({ ref: "refs/heads/local", count: 320, from: base, startTime: HISTORY_START + 200 * 86_400, label: "local" }));
      const newTip = await advanceMain(git, seeded.url, 2, "remote");
      const fetch = await git.traced(["-C", clone, "fetch", "origin"]);
      expect(fetch.exitCode).toBe(0);
      // 16, 32, 64, 128, then 256 haves before the common base is reached: at least 4 rounds.
      expect(countPosts(fetch, "git-upload-pack")).toBeGreaterThanOrEqual(4);
      expect(fetch.packets).toMatch(new RegExp(`< ACK ${base}`));
      expect(await git.revParse(clone, "refs/remotes/origin/main")).toBe(newTip);
      await git.fsck(clone);
    },
  },
  {
    name: "a client with 2,000 tags sends gzip request bodies",
    async run(context) {
      const { git } = context;
      const { clone, ...seeded } = await seededClone(context);
      const base = await git.revParse(clone, "HEAD");
      await fastImport(git, clone, historyStream({ ref: "refs/heads/tagged", count: 2000, from: base, startTime: HISTORY_START + 300 * 86_400, label: "t", tagEach: true }));
      const newTip = await advanceMain(git, seeded.url, 1, "after-tags");
      const fetch = await git.traced(["-C", clone, "fetch", "origin"]);
      expect(fetch.exitCode).toBe(0);
      expect(sentHeaders(fetch)).toContain("Content-Encoding: gzip");
      expect(await git.revParse(clone, "refs/remotes/origin/main")).toBe(newTip);
      await git.fsck(clone);
      // And back: 2,000 new refs in one push, then listed by the server.
      await git.ok(["-C", clone, "push", "-q", "origin", "--tags", "tagged"]);
      const refs = await git.lsRemote(seeded.url);
      expect([...refs.keys()].filter((name) => /^refs\/tags\/t-\d+$/.test(name)).length).toBe(2000);
      expect(refs.get("refs/tags/t-2000")).toBe(await git.revParse(clone, "tagged"));
      await checkedClone(git, seeded.url);
    },
  },
  {
    name: "fetch by id: a reachable commit is served, one no ref reaches is refused",
    async run(context) {
      const { git } = context;
      // Only a server that allows rewriting history can hold an unreachable commit.
      const seeded = await seedAgent({ git, server: await context.forcePushServer() });
      const old = await git.revParse(seeded.source, "main");
      const inner = await git.revParse(seeded.source, "main~3");
      await git.ok(["-C", seeded.source, "push", "-q", "--force", seeded.url, "main~1:refs/heads/main"]);
      const repo = git.dir("by-id");
      await git.ok(["init", "-q", repo]);
      await git.ok(["-C", repo, "fetch", "-q", seeded.url, inner]);
      expect(await git.revParse(repo, "FETCH_HEAD")).toBe(inner);
      await git.fsck(repo);
      const refused = await git.fails(["-C", repo, "fetch", seeded.url, old]);
      expect(refused.stderr).toMatch(/not our ref|Server does not allow request for unadvertised object/);
      expect(await git.run(["-C", repo, "cat-file", "-e", old]).then((result) => result.exitCode)).not.toBe(0);
    },
  },
  {
    name: "shallow clone --depth 1, then --deepen 2, then --unshallow",
    binary: true,
    async run(context) {
      const { git } = context;
      const seeded = await seedAgent(context);
      const clone = git.dir("clone");
      const oracle = await oracleClone(git, seeded.source, ["--depth", "1"]);
      await git.ok(["clone", "-q", "--depth", "1", seeded.url, clone]);
      expect(await git.ok(["-C", clone, "rev-list", "--count", "HEAD"])).toBe("1");
      await expectSameShape(git, clone, oracle);
      await git.fsck(clone);

      await git.ok(["-C", clone, "fetch", "-q", "--deepen", "2"]);
      await git.ok(["-C", oracle, "fetch", "-q", "--deepen", "2"]);
      expect(await git.ok(["-C", clone, "rev-list", "--count", "HEAD"])).toBe("3");
      await expectSameShape(git, clone, oracle);
      await git.fsck(clone);

      await git.ok(["-C", clone, "fetch", "-q", "--unshallow"]);
      expect(shallowFile(clone)).toEqual([]);
      expect(await git.ok(["-C", clone, "rev-list", "--count", "HEAD"])).toBe("12");
      await git.fsck(clone);
    },
  },
  {
    name: "shallow clone --shallow-since",
    async run(context) {
      const { git } = context;
      const seeded = await seedAgent(context);
      const since = `--shallow-since=${HISTORY_START + 7 * 86_400}`;
      const clone = git.dir("clone");
      await git.ok(["clone", "-q", "--no-single-branch", since, seeded.url, clone]);
      const oracle = await oracleClone(git, seeded.source, ["--no-single-branch", since]);
      expect(await git.ok(["-C", clone, "rev-list", "--count", "origin/main"])).toBe("5");
      await expectSameShape(git, clone, oracle);
      await git.fsck(clone);
    },
  },
  {
    name: "shallow clone --shallow-exclude",
    async run(context) {
      const { git } = context;
      const seeded = await seedAgent(context);
      const clone = git.dir("clone");
      await git.ok(["clone", "-q", "--shallow-exclude=v1", seeded.url, clone]);
      const oracle = await oracleClone(git, seeded.source, ["--shallow-exclude=v1"]);
      expect(await git.ok(["-C", clone, "rev-list", "--count", "HEAD"])).toBe("7");
      await expectSameShape(git, clone, oracle);
      await git.fsck(clone);
    },
  },
  {
    name: "partial clone --filter=blob:none fetches missing blobs on checkout",
    binary: true,
    async run(context) {
      const { git } = context;
      const seeded = await seedAgent(context);
      const clone = git.dir("clone");
      await git.ok(["clone", "-q", "--filter=blob:none", seeded.url, clone]);
      const lines = async (repo: string, args: string[], marker: string) =>
        (await git.ok(["-C", repo, "rev-list", "--objects", "--all", ...args])).split("\n").flatMap((line) => (line.startsWith(marker) ? [line.slice(1)] : []));
      // Only the checked-out tree's blobs came; every other blob of the history is missing.
      const missing = await lines(clone, ["--missing=print"], "?");
      const omitted = new Set(await lines(seeded.source, ["--filter=blob:none", "--filter-print-omitted"], "~"));
      const checkedOut = (await git.ok(["-C", seeded.source, "ls-tree", "-r", "--object-only", "main"])).split("\n");
      expect(missing.length).toBeGreaterThan(0);
      expect(new Set([...missing, ...checkedOut])).toEqual(omitted);
      const old = await git.revParse(seeded.source, "main~6");
      await git.ok(["-C", clone, "checkout", "-q", old]);
      expect(readFileSync(join(clone, "main/log.md"), "utf8")).toBe("main entry 6\n");
      await git.ok(["-C", clone, "checkout", "-q", "origin/feature"]);
      expect(readFileSync(join(clone, "feature/log.md"), "utf8")).toBe("feature entry 3\n");
      await git.fsck(clone);
    },
  },
  {
    name: "partial clones --filter=blob:limit=1k and --filter=tree:0",
    async run(context) {
      const { git } = context;
      const large = `${"a large block\n".repeat(200)}`;
      const { url, writer } = await agentWithFiles(context, { "large.md": large, "small.md": "small\n", "dir/nested.md": "nested\n" });
      const largeBlob = await git.revParse(writer, "HEAD:large.md");
      const missing = async (repo: string) =>
        (await git.ok(["-C", repo, "rev-list", "--objects", "--all", "--missing=print"])).split("\n").flatMap((line) => (line.startsWith("?") ? [line.slice(1)] : []));

      const limited = git.dir("blob-limit");
      await git.ok(["clone", "-q", "--no-checkout", "--filter=blob:limit=1k", url, limited]);
      expect(await missing(limited)).toEqual([largeBlob]);
      await git.ok(["-C", limited, "checkout", "-q", "main", "--", "."]);
      expect(readFileSync(join(limited, "large.md"), "utf8")).toBe(large);
      await git.fsck(limited);

      const treeless = git.dir("tree-0");
      await git.ok(["clone", "-q", "--no-checkout", "--filter=tree:0", url, treeless]);
      // Only commits came: the walk stops at the first missing object, the root tree.
      expect(await missing(treeless)).toEqual([await git.revParse(writer, "HEAD^{tree}")]);
      await git.ok(["-C", treeless, "checkout", "-q", "main", "--", "."]);
      expect(readFileSync(join(treeless, "dir/nested.md"), "utf8")).toBe("nested\n");
      await git.fsck(treeless);
    },
  },
  {
    name: "clone --mirror holds every ref",
    async run(context) {
      const { git } = context;
      const seeded = await seedAgent(context);
      const mirror = git.dir("mirror");
      await git.ok(["clone", "-q", "--mirror", seeded.url, mirror]);
      expect(await expectedRefs(git, mirror)).toEqual(await expectedRefs(git, seeded.source));
      expect(await git.ok(["-C", mirror, "symbolic-ref", "HEAD"])).toBe("refs/heads/main");
      await git.fsck(mirror);
    },
  },
  {
    name: "a 5 MB blob round-trips",
    async run(context) {
      const { git } = context;
      const blob = randomBytes(5 * 1024 * 1024, 5);
      const { url, writer } = await agentWithFiles(context, { "big/blob.bin": blob, "README.md": "big\n" });
      const blobId = await git.revParse(writer, "HEAD:big/blob.bin");
      const clone = git.dir("clone");
      await git.ok(["clone", "-q", url, clone]);
      expect(await git.revParse(clone, "HEAD:big/blob.bin")).toBe(blobId);
      expect(new Uint8Array(readFileSync(join(clone, "big/blob.bin"))).every((byte, i) => byte === blob[i])).toBe(true);
      await git.fsck(clone);
    },
  },
  {
    name: "ls-remote --heads: v2 sends ref-prefix and gets only matching refs",
    async run(context) {
      const { git } = context;
      const seeded = await seedAgent(context);
      const listing = await git.traced(["ls-remote", "--heads", seeded.url]);
      expect(listing.exitCode).toBe(0);
      const heads = new Map([...(await expectedRefs(git, seeded.source))].filter(([name]) => name.startsWith("refs/heads/")));
      expect(listing.stdout.trim().split("\n").sort()).toEqual([...heads].map(([name, oid]) => `${oid}\t${name}`).sort());
      const advertised = [...listing.packets.matchAll(/< ([0-9a-f]{40}) (\S+)/g)].map((match) => match[2]);
      if (git.protocol === 2) {
        expect(listing.packets).toContain("> ref-prefix refs/heads/");
        expect(advertised.sort()).toEqual([...heads.keys()].sort());
      } else {
        expect(advertised).toContain("refs/tags/v1");
      }
      await checkedClone(git, seeded.url);
    },
  },
];
