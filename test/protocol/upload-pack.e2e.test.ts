/**
 * The real git client against uploadPack and advertise, through a minimal test-only HTTP
 * server: clone, fetch, shallow and partial clones, protocol v0 and v2, then git fsck.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RepositorySnapshot } from "../../src/protocol/snapshot.ts";
import { git, gitText } from "../support/git.ts";
import { useHistory } from "./fixtures.ts";
import { gitAsync, gitOk } from "./git-async.ts";
import { packedSnapshot, serveSnapshot } from "./server.ts";

const history = useHistory(8);
let snapshot: RepositorySnapshot;
let server: ReturnType<typeof serveSnapshot>;

beforeAll(() => {
  snapshot = packedSnapshot(history.repo);
  server = serveSnapshot(() => snapshot);
});
afterAll(() => server.stop());

const rev = (dir: string, name: string) => gitText(["rev-parse", name], { cwd: dir });

async function clone(name: string, protocol: 0 | 1 | 2, ...args: string[]): Promise<string> {
  const dir = join(history.workspace, name);
  await gitOk(["-c", `protocol.version=${protocol}`, "clone", "-q", ...args, server.url, dir]);
  return dir;
}

async function fsck(dir: string): Promise<void> {
  await gitOk(["fsck", "--full", "--strict", "--no-dangling"], { cwd: dir });
}

/** Adds a commit to the served repository and refreshes the snapshot. */
let upstreamCommits = 0;
function commitUpstream(file: string, content: string): void {
  writeFileSync(join(history.repo, file), content);
  git(["-C", history.repo, "add", "."]);
  const date = `${1700000000 + (30 + upstreamCommits++) * 86400} +0000`;
  git(["-C", history.repo, "commit", "-q", "-m", `update ${file}`], { env: { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } });
  snapshot = packedSnapshot(history.repo);
}

describe.each([0, 1, 2] as const)("protocol v%d", (protocol) => {
  test("clone, then fetch new commits, then fsck", async () => {
    const dir = await clone(`full-v${protocol}`, protocol);
    expect(rev(dir, "HEAD")).toBe(rev(history.repo, "main"));
    expect(rev(dir, "origin/topic")).toBe(rev(history.repo, "topic"));
    expect(rev(dir, "v1")).toBe(rev(history.repo, "v1"));
    await fsck(dir);

    commitUpstream(`fetch-${protocol}.md`, "new block\n".repeat(50));
    await gitOk(["-c", `protocol.version=${protocol}`, "fetch", "-q", "origin"], { cwd: dir });
    expect(rev(dir, "origin/main")).toBe(rev(history.repo, "main"));
    await gitOk(["merge", "-q", "--ff-only", "origin/main"], { cwd: dir });
    await fsck(dir);
  });

  test("a client with many commits the server lacks negotiates over several rounds", async () => {
    const dir = await clone(`diverged-v${protocol}`, protocol);
    for (let i = 0; i < 40; i++) {
      writeFileSync(join(dir, "local.md"), `local ${i}\n`);
      await gitOk(["add", "."], { cwd: dir });
      // Newer than anything upstream, so the client announces them first: whole rounds of unknown haves.
      const date = `${1800000000 + i} +0000`;
      await gitOk(["commit", "-q", "-m", `local ${i}`], { cwd: dir, env: { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } });
    }
    commitUpstream(`diverged-${protocol}.md`, "upstream\n");
    const fetched = await gitAsync(["-c", `protocol.version=${protocol}`, "fetch", "origin"], { cwd: dir, env: { GIT_TRACE_PACKET: "1" } });
    expect(fetched.exitCode).toBe(0);
    // 40 unknown haves before the first common one: several stateless POSTs (16, then 32 …).
    expect(fetched.stderr.match(/> have [0-9a-f]{40}/g)?.length ?? 0).toBeGreaterThan(40);
    expect(rev(dir, "origin/main")).toBe(rev(history.repo, "main"));
    await fsck(dir);
  });

  test("shallow clone and --depth fetches match git's own upload-pack; deepen; unshallow", async () => {
    const ours = await clone(`shallow-v${protocol}`, protocol, "--depth", "1", "--no-single-branch");
    const reference = join(history.workspace, `shallow-reference-v${protocol}`);
    await gitOk(["-c", `protocol.version=${protocol}`, "clone", "-q", "--depth", "1", "--no-single-branch", `file://${history.repo}`, reference]);
    const sameShallowState = () => {
      expect(readFileSync(join(ours, ".git/shallow"), "utf8")).toBe(readFileSync(join(reference, ".git/shallow"), "utf8"));
      expect(gitText(["rev-list", "--all"], { cwd: ours })).toBe(gitText(["rev-list", "--all"], { cwd: reference }));
    };
    sameShallowState();
    expect(gitText(["rev-list", "--count", "HEAD"], { cwd: ours })).toBe("1");
    await fsck(ours);
    for (const dir of [ours, reference]) await gitOk(["-c", `protocol.version=${protocol}`, "fetch", "-q", "--depth", "3"], { cwd: dir });
    sameShallowState();
    // deepen-relative follows git >= 2.54 (counted from the client's boundary as seen from the
    // wants), which the installed git 2.39 does not: only check that history grew.
    const before = Number(gitText(["rev-list", "--count", "--all"], { cwd: ours }));
    await gitOk(["-c", `protocol.version=${protocol}`, "fetch", "-q", "--deepen", "1"], { cwd: ours });
    expect(Number(gitText(["rev-list", "--count", "--all"], { cwd: ours }))).toBeGreaterThan(before);
    await fsck(ours);
    await gitOk(["-c", `protocol.version=${protocol}`, "fetch", "-q", "--unshallow"], { cwd: ours });
    expect(gitText(["rev-list", "--count", "HEAD"], { cwd: ours })).toBe(gitText(["rev-list", "--count", "main"], { cwd: history.repo }));
    await fsck(ours);
  });

  test("shallow-since and shallow-exclude", async () => {
    const since = await clone(`since-v${protocol}`, protocol, "--shallow-since", "2023-11-20");
    await fsck(since);
    const exclude = await clone(`exclude-v${protocol}`, protocol, "--shallow-exclude", "v1");
    expect(gitText(["rev-list", "--count", "HEAD"], { cwd: exclude })).toBe(gitText(["rev-list", "--count", "main", "^v1"], { cwd: history.repo }));
    await fsck(exclude);
  });

  test("partial clone with blob:none fetches blobs lazily at checkout", async () => {
    const dir = await clone(`partial-v${protocol}`, protocol, "--filter=blob:none", "--no-checkout");
    const missing = gitText(["rev-list", "--objects", "--missing=print", "HEAD"], { cwd: dir }).split("\n").filter((line) => line.startsWith("?"));
    expect(missing.length).toBeGreaterThan(0);
    await gitOk(["-c", `protocol.version=${protocol}`, "checkout", "-q", "main"], { cwd: dir });
    expect(gitText(["show", "HEAD:memory.md"], { cwd: dir })).toBe(gitText(["show", "main:memory.md"], { cwd: history.repo }));
    await gitOk(["-c", `protocol.version=${protocol}`, "log", "-p", "-q", "HEAD~2..HEAD"], { cwd: dir });
    await fsck(dir);
  });

  test("treeless clone (tree:0)", async () => {
    const dir = await clone(`treeless-v${protocol}`, protocol, "--filter=tree:0");
    expect(gitText(["show", "HEAD:memory.md"], { cwd: dir })).toBe(gitText(["show", "main:memory.md"], { cwd: history.repo }));
    await fsck(dir);
  });
});

test("an empty repository clones as empty; over v2 the client learns HEAD's unborn target", async () => {
  const empty: RepositorySnapshot = { head: "refs/heads/main", refs: new Map(), objects: snapshot.objects };
  const emptyServer = serveSnapshot(() => empty);
  try {
    for (const protocol of [0, 2]) {
      const dir = join(history.workspace, `empty-v${protocol}`);
      const result = await gitAsync(["-c", `protocol.version=${protocol}`, "-c", "init.defaultBranch=trunk", "clone", emptyServer.url, dir]);
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toContain("You appear to have cloned an empty repository.");
      // v0 has no way to name an unborn HEAD (git advertises symref= only for a born one).
      expect(gitText(["symbolic-ref", "HEAD"], { cwd: dir })).toBe(protocol === 2 ? "refs/heads/main" : "refs/heads/trunk");
    }
  } finally {
    emptyServer.stop();
  }
});
