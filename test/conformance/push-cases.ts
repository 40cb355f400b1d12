/** Push cases: the real git client pushing to the real server; every result checked with a fresh clone. */
import { advanceMain, agentWithFiles, checkedClone, cloneEmpty, expectedRefs, randomBytes, randomTextLines, seedAgent, seededClone, sourceRepository, standardHistory } from "./fixtures.ts";
import { commitFiles, expect, sentHeaders, type ConformanceCase, type GitClient, type StategitServer, type SuiteContext } from "./harness.ts";

/** Replaces main's tip with a sibling commit: pushing it is not a fast-forward. */
async function rewriteTip(git: GitClient, clone: string): Promise<string> {
  await git.ok(["-C", clone, "reset", "-q", "--hard", "HEAD~1"]);
  return commitFiles(git, clone, { "rewritten.md": "history rewritten\n" }, "rewrite");
}

async function remoteRef(git: GitClient, url: string, ref: string): Promise<string | undefined> {
  return (await git.lsRemote(url)).get(ref);
}

async function expectForcePush(git: GitClient, server: StategitServer, allowed: boolean): Promise<void> {
  const seeded = await seededClone({ git, server });
  const before = await git.lsRemote(seeded.url);
  const rewritten = await rewriteTip(git, seeded.clone);
  const push = await git.run(["-C", seeded.clone, "push", "--force", "origin", "main"]);
  if (allowed) {
    expect(push.exitCode).toBe(0);
    expect(await remoteRef(git, seeded.url, "refs/heads/main")).toBe(rewritten);
  } else {
    expect(push.exitCode).not.toBe(0);
    expect(push.stderr).toContain("[remote rejected] main -> main (non-fast-forward)");
    expect(await git.lsRemote(seeded.url)).toEqual(before);
  }
  await checkedClone(git, seeded.url);
}

/** A push from a clone of a seeded agent that must fail with `message` and change nothing. */
async function expectRefusedPush(context: SuiteContext, pushArgs: string[], message: string): Promise<void> {
  const { git } = context;
  const seeded = await seededClone(context);
  const before = await git.lsRemote(seeded.url);
  const push = await git.fails(["-C", seeded.clone, "push", "origin", ...pushArgs]);
  expect(push.stderr).toContain(message);
  expect(await git.lsRemote(seeded.url)).toEqual(before);
  await checkedClone(git, seeded.url);
}

export const PUSH_CASES: ConformanceCase[] = [
  {
    name: "fast-forward push",
    binary: true,
    async run(context) {
      const { git } = context;
      const seeded = await seededClone(context);
      const tip = await commitFiles(git, seeded.clone, { "system/persona.md": "---\ndescription: who I am\n---\nA helpful agent.\n" }, "persona");
      await git.ok(["-C", seeded.clone, "push", "-q", "origin", "main"]);
      expect(await remoteRef(git, seeded.url, "refs/heads/main")).toBe(tip);
      const check = await checkedClone(git, seeded.url);
      expect(await git.ok(["-C", check, "show", "main:system/persona.md"])).toContain("A helpful agent.");
    },
  },
  {
    name: "new branch at an existing commit",
    async run(context) {
      const { git } = context;
      const seeded = await seededClone(context);
      const older = await git.revParse(seeded.clone, "main~2");
      await git.ok(["-C", seeded.clone, "push", "-q", "origin", "main~2:refs/heads/older"]);
      expect(await remoteRef(git, seeded.url, "refs/heads/older")).toBe(older);
      await checkedClone(git, seeded.url);
    },
  },
  {
    name: "push from a shallow clone",
    async run(context) {
      const { git } = context;
      const seeded = await seedAgent(context);
      const clone = git.dir("shallow");
      await git.ok(["clone", "-q", "--depth", "1", seeded.url, clone]);
      const tip = await commitFiles(git, clone, { "shallow.md": "pushed from a shallow clone\n" }, "from shallow");
      await git.ok(["-C", clone, "push", "-q", "origin", "main"]);
      expect(await remoteRef(git, seeded.url, "refs/heads/main")).toBe(tip);
      await git.fsck(clone);
      await checkedClone(git, seeded.url);
    },
  },
  {
    name: "--force-with-lease with a stale lease is refused",
    async run(context) {
      const { git } = context;
      const seeded = await seededClone(context);
      const theirs = await advanceMain(git, seeded.url, 1, "theirs");
      await rewriteTip(git, seeded.clone);
      const push = await git.fails(["-C", seeded.clone, "push", "--force-with-lease", "origin", "main"]);
      expect(push.stderr).toContain("stale info");
      expect(await remoteRef(git, seeded.url, "refs/heads/main")).toBe(theirs);
      await checkedClone(git, seeded.url);
    },
  },
  {
    name: "force push is refused by default",
    async run({ git, server }) {
      await expectForcePush(git, server, false);
    },
  },
  {
    name: "force push is accepted with --allow-force-push",
    async run(context) {
      await expectForcePush(context.git, await context.forcePushServer(), true);
    },
  },
  {
    name: "branch delete",
    async run(context) {
      const { git } = context;
      const seeded = await seededClone(context);
      await git.ok(["-C", seeded.clone, "push", "-q", "origin", "--delete", "feature"]);
      const refs = await git.lsRemote(seeded.url);
      expect(refs.has("refs/heads/feature")).toBe(false);
      expect(refs.has("refs/tags/feature-tag")).toBe(true);
      await checkedClone(git, seeded.url);
    },
  },
  {
    name: "deleting the default branch is refused",
    run: (context) => expectRefusedPush(context, ["--delete", "main"], "[remote rejected] main (deletion of the current branch prohibited)"),
  },
  {
    name: "a branch pointing to a tree is refused",
    run: (context) => expectRefusedPush(context, ["HEAD^{tree}:refs/heads/tree"], "[remote rejected] HEAD^{tree} -> tree"),
  },
  {
    name: "deleting a missing ref fails and changes nothing",
    run: (context) => expectRefusedPush(context, ["--delete", "no-such-branch"], "remote ref does not exist"),
  },
  {
    name: "--atomic with one stale ref updates nothing",
    async run(context) {
      const { git } = context;
      const seeded = await seededClone(context);
      const before = await git.lsRemote(seeded.url);
      await commitFiles(git, seeded.clone, { "atomic/main.md": "main moves\n" }, "main moves");
      await git.ok(["-C", seeded.clone, "checkout", "-q", "-b", "feature", "origin/feature"]);
      await git.ok(["-C", seeded.clone, "reset", "-q", "--hard", "HEAD~1"]);
      await commitFiles(git, seeded.clone, { "atomic/feature.md": "feature rewritten\n" }, "feature rewritten");
      // The server refuses the non-fast-forward feature, so the good main update must fail too.
      const push = await git.fails(["-C", seeded.clone, "push", "--atomic", "--force", "origin", "main", "feature"]);
      expect(push.stderr).toContain("feature -> feature (non-fast-forward)");
      expect(push.stderr).toContain("main -> main (atomic push failure)");
      expect(await git.lsRemote(seeded.url)).toEqual(before);
      await checkedClone(git, seeded.url);
    },
  },
  {
    name: "thin push of an edit to a large file sends a small pack",
    async run(context) {
      const { git } = context;
      const lines = randomTextLines(8000, 8);
      const { url } = await agentWithFiles(context, { "notes/large.txt": `${lines.join("\n")}\n` });
      const clone = git.dir("clone");
      await git.ok(["clone", "-q", url, clone]);
      lines[4000] = "an edited line";
      const tip = await commitFiles(git, clone, { "notes/large.txt": `${lines.join("\n")}\n` }, "edit one line");
      const push = await git.traced(["-C", clone, "push", "origin", "main"]);
      expect(push.exitCode).toBe(0);
      // The file compresses to ~300 KB; a thin pack carries only a delta against the server's copy.
      const lengths = sentHeaders(push).flatMap((header) => /^Content-Length: (\d+)$/i.exec(header)?.[1] ?? []).map(Number);
      expect(lengths.length).toBe(1);
      expect(lengths[0]).toBeLessThan(16 * 1024);
      expect(await remoteRef(git, url, "refs/heads/main")).toBe(tip);
      const check = await checkedClone(git, url);
      expect(await git.ok(["-C", check, "show", "main:notes/large.txt"])).toBe(lines.join("\n"));
    },
  },
  {
    name: "http.postBuffer=1024: a chunked push after the 0000 probe",
    async run(context) {
      const { git } = context;
      const seeded = await seededClone(context);
      // git raises http.postBuffer to 64 KiB at least: the pack must be larger to go chunked.
      const tip = await commitFiles(git, seeded.clone, { "notes/chunked.bin": randomBytes(100_000, 9) }, "chunked");
      const push = await git.traced(["-C", seeded.clone, "-c", "http.postBuffer=1024", "push", "origin", "main"]);
      expect(push.exitCode).toBe(0);
      const headers = sentHeaders(push);
      expect(headers).toContain("Transfer-Encoding: chunked");
      expect(headers).toContain("Content-Length: 4");
      expect(await remoteRef(git, seeded.url, "refs/heads/main")).toBe(tip);
      await checkedClone(git, seeded.url);
    },
  },
  {
    name: "push --tags",
    async run(context) {
      const { git } = context;
      const seeded = await seededClone(context);
      await git.ok(["-C", seeded.clone, "tag", "-a", "-m", "second release", "v2", "HEAD"]);
      await git.ok(["-C", seeded.clone, "tag", "marker", "HEAD~1"]);
      await git.ok(["-C", seeded.clone, "push", "-q", "--tags", "origin"]);
      const refs = await git.lsRemote(seeded.url);
      expect(refs.get("refs/tags/v2")).toBe(await git.revParse(seeded.clone, "refs/tags/v2"));
      expect(refs.get("refs/tags/v2^{}")).toBe(await git.revParse(seeded.clone, "HEAD"));
      expect(refs.get("refs/tags/marker")).toBe(await git.revParse(seeded.clone, "HEAD~1"));
      await checkedClone(git, seeded.url);
    },
  },
  {
    name: "push options (-o)",
    async run(context) {
      const { git } = context;
      const seeded = await seededClone(context);
      const tip = await commitFiles(git, seeded.clone, { "options.md": "pushed with options\n" }, "options");
      const push = await git.traced(["-C", seeded.clone, "push", "-o", "ci.skip", "-o", "note=hello world", "origin", "main"]);
      expect(push.exitCode).toBe(0);
      expect(push.packets).toContain("> note=hello world");
      expect(await remoteRef(git, seeded.url, "refs/heads/main")).toBe(tip);
      await checkedClone(git, seeded.url);
    },
  },
  {
    name: "10 parallel pushes to one branch: exactly one wins per old id",
    binary: true,
    async run(context) {
      const { git } = context;
      const { url, tip: base } = await agentWithFiles(context, { "base.md": "base\n" });
      const clones = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const clone = git.dir(`racer${i}`);
          await git.ok(["clone", "-q", url, clone]);
          return clone;
        }),
      );
      let expectedParent = base;
      for (const round of [1, 2]) {
        const tips = await Promise.all(clones.map((clone, i) => commitFiles(git, clone, { [`racer-${i}.md`]: `racer ${i}, round ${round}\n` }, `racer ${i} round ${round}`)));
        // Three readers clone while the pushes race: each sees the old tip or the winner's, whole.
        const [pushes, readers] = await Promise.all([
          Promise.all(clones.map((clone) => git.run(["-C", clone, "push", "origin", "main"]))),
          Promise.all([1, 2, 3].map(() => checkedClone(git, url))),
        ]);
        const winners = pushes.flatMap((push, i) => (push.exitCode === 0 ? [i] : []));
        expect(winners.length).toBe(1);
        const tip = await remoteRef(git, url, "refs/heads/main");
        expect(tip).toBe(tips[winners[0]]);
        for (const reader of readers) expect([expectedParent, tip]).toContain(await git.revParse(reader, "main"));
        expect(await git.revParse(clones[winners[0]], "HEAD~1")).toBe(expectedParent);
        expectedParent = tip!;
        // Everyone drops their own commit and takes the winner's: all push from the same old id again.
        await Promise.all(
          clones.map(async (clone) => {
            await git.ok(["-C", clone, "fetch", "-q", "origin"]);
            await git.ok(["-C", clone, "reset", "-q", "--hard", "origin/main"]);
          }),
        );
      }
      const check = await checkedClone(git, url);
      expect(await git.ok(["-C", check, "rev-list", "--count", "main"])).toBe("3");
    },
  },
  {
    name: "20 small pushes (packs pile up, compaction merges them), then clone and fetch",
    async run(context) {
      const { git } = context;
      const seeded = await seededClone(context);
      const stale = git.dir("stale");
      await git.ok(["clone", "-q", seeded.url, stale]);
      let tip = "";
      for (let i = 0; i < 20; i++) {
        tip = await commitFiles(git, seeded.clone, { [`pile/${i % 5}.md`]: `push ${i}\n` }, `push ${i}`);
        await git.ok(["-C", seeded.clone, "push", "-q", "origin", "main"]);
      }
      const check = await checkedClone(git, seeded.url);
      expect(await git.revParse(check, "main")).toBe(tip);
      expect(await git.ok(["-C", check, "rev-list", "--count", "main"])).toBe("32");
      await git.ok(["-C", stale, "pull", "-q", "--ff-only"]);
      expect(await git.revParse(stale, "HEAD")).toBe(tip);
      await git.fsck(stale);
    },
  },
  {
    name: "pushed state survives a restart (SIGTERM exits 0)",
    binary: true,
    async run(context) {
      const { git, server } = context;
      const seeded = await seededClone(context);
      const tip = await commitFiles(git, seeded.clone, { "restart.md": "before the restart\n" }, "before restart");
      await git.ok(["-C", seeded.clone, "push", "-q", "origin", "main"]);
      const before = await git.lsRemote(seeded.url);
      expect(await server.restart()).toBe(0);
      const url = server.url(seeded.agent);
      expect(await git.lsRemote(url)).toEqual(before);
      expect(before.get("refs/heads/main")).toBe(tip);
      const after = await commitFiles(git, seeded.clone, { "restart.md": "after the restart\n" }, "after restart");
      await git.ok(["-C", seeded.clone, "push", "-q", url, "main"]);
      const check = await checkedClone(git, url);
      expect(await git.revParse(check, "main")).toBe(after);
    },
  },
  {
    name: "push --mirror into an empty repository",
    async run(context) {
      const { git, server } = context;
      const source = await sourceRepository(git, standardHistory());
      const url = server.url(server.newAgent());
      await git.ok(["-C", source, "push", "-q", "--mirror", url]);
      expect(await git.lsRemote(url)).toEqual(await expectedRefs(git, source));
      await checkedClone(git, url);
    },
  },
];

/** Who may see what: organisations, unknown agents, revoked keys. */
export const ACCESS_CASES: ConformanceCase[] = [
  {
    name: "a key of org A cannot see org B's repository: the same agent id is another, empty repository",
    async run(context) {
      const { git, server } = context;
      const seeded = await seedAgent(context);
      const otherKey = await server.newKey(`other-${git.protocol}`);
      const otherUrl = server.url(seeded.agent, { key: otherKey });
      expect(await git.lsRemote(otherUrl)).toEqual(new Map());
      const clone = await cloneEmpty(git, otherUrl);
      const theirs = await commitFiles(git, clone, { "mine.md": "org B's memory\n" }, "org B");
      await git.ok(["-C", clone, "push", "-q", "origin", "HEAD:refs/heads/main"]);
      expect(await git.lsRemote(otherUrl)).toEqual(new Map([["HEAD", theirs], ["refs/heads/main", theirs]]));
      expect(await git.lsRemote(seeded.url)).toEqual(await expectedRefs(git, seeded.source));
      await git.fsck(clone);
    },
  },
  {
    name: "an unknown agent of one's own org clones as empty (Bearer key, /git base)",
    async run(context) {
      const { git, server } = context;
      const agent = server.newAgent();
      const bearer = ["-c", `http.extraHeader=Authorization: Bearer ${server.key}`];
      const clone = await cloneEmpty(git, server.plainUrl(agent, "/git"), bearer);
      const tip = await commitFiles(git, clone, { "hello.md": "hello\n" }, "hello");
      await git.ok([...bearer, "-C", clone, "push", "-q", "origin", "HEAD:refs/heads/main"]);
      expect(await remoteRef(git, server.url(agent), "refs/heads/main")).toBe(tip);
      await git.fsck(clone);
    },
  },
  {
    name: "agent ids with dots, underscores, dashes and 128 characters",
    async run(context) {
      const { git, server } = context;
      for (const agent of [`a.b_c-D${git.protocol}`, `${git.protocol}`.repeat(128), `memory${git.protocol}.git`]) {
        const url = server.url(agent);
        const clone = await cloneEmpty(git, url);
        const tip = await commitFiles(git, clone, { "id.md": `${agent}\n` }, agent);
        await git.ok(["-C", clone, "push", "-q", "origin", "HEAD:refs/heads/main"]);
        const check = await checkedClone(git, url);
        expect(await git.revParse(check, "main")).toBe(tip);
      }
    },
  },
  {
    name: "a revoked key gets 401",
    async run(context) {
      const { git, server } = context;
      const seeded = await seedAgent(context);
      const key = await server.newKey();
      await server.admin(["key", "revoke", /^sg_([0-9a-f]{16})_/.exec(key)![1]]);
      const listing = await git.fails(["ls-remote", server.url(seeded.agent, { key })]);
      expect(listing.stderr).toContain("Authentication failed");
      const response = await fetch(`${server.plainUrl(seeded.agent)}/info/refs?service=git-upload-pack`, { headers: { Authorization: `Bearer ${key}` } });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Basic realm="stategit"');
    },
  },
];
