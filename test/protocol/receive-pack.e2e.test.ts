/**
 * git push against receive-pack over a minimal test-only HTTP server (the info/refs and
 * git-receive-pack routes, no authentication), checked with git ls-remote and with
 * `git fsck --strict` on what the store holds (its packs and refs copied into a bare repository).
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { readBody } from "../../src/http/body.ts";
import { advertise, advertisementContentType, isGitService, resultContentType } from "../../src/protocol/advertise.ts";
import { handleReceivePack } from "../../src/protocol/receive-pack.ts";
import { parseProtocolVersion } from "../../src/protocol/version.ts";
import { Repositories, type CommitEvent } from "../../src/repo/repository.ts";
import { memoryManifests } from "../repo/support.ts";
import { MemoryBlobStore } from "../../src/storage/memory.ts";
import { git, gitAsync, gitText, tempDir } from "../support/git.ts";

const ORG = "acme";
let store: MemoryBlobStore;
let repos: Repositories;
let allowForcePush = false;
let events: CommitEvent[] = [];
/** Bodies of receive-pack POSTs, as received: the probe is `0000`. */
let receivePackBodies: Uint8Array[] = [];

const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(request) {
    const url = new URL(request.url);
    const match = /^\/([^/]+)\/state\.git\/(info\/refs|git-receive-pack)$/.exec(url.pathname);
    if (!match) return new Response("not found", { status: 404 });
    const [, agent, route] = match;
    const protocolVersion = parseProtocolVersion(request.headers.get("git-protocol"));
    if (route === "info/refs") {
      const service = url.searchParams.get("service") ?? "";
      if (!isGitService(service)) return new Response("forbidden", { status: 403 });
      const body = advertise(await repos.snapshot(ORG, agent), service, protocolVersion);
      return new Response(body, { headers: { "Content-Type": advertisementContentType(service), "Cache-Control": "no-cache" } });
    }
    const body = await readBody(request, 64 * 1024 * 1024);
    receivePackBodies.push(body);
    const answer = await handleReceivePack(body, (push) => repos.push(ORG, agent, { ...push, allowForcePush }));
    return new Response(answer, { headers: { "Content-Type": resultContentType("git-receive-pack") } });
  },
});

const dirs: Array<() => void> = [];
afterAll(() => {
  server.stop(true);
  for (const cleanup of dirs) cleanup();
});

beforeEach(async () => {
  store = new MemoryBlobStore();
  repos = new Repositories(store, await memoryManifests(), {
    compaction: false,
    onCommit: (event) => {
      events.push(event);
      return [`stored as generation ${event.after.manifest.generation}`];
    },
  });
  allowForcePush = false;
  events = [];
  receivePackBodies = [];
});

function remote(agent: string): string {
  return `http://127.0.0.1:${server.port}/${agent}/state.git`;
}

/** A fresh working repository with `origin` at `agent`'s repository. */
function clientRepo(agent: string): string {
  const dir = tempDir("stategit-client-");
  dirs.push(dir.cleanup);
  git(["init", "-q", "-b", "main", dir.path]);
  git(["remote", "add", "origin", remote(agent)], { cwd: dir.path });
  return dir.path;
}

function commitFile(cwd: string, name: string, content: string | Uint8Array, message = `write ${name}`): string {
  writeFileSync(join(cwd, name), content);
  git(["add", name], { cwd });
  git(["commit", "-q", "-m", message], { cwd });
  return gitText(["rev-parse", "HEAD"], { cwd });
}

/** The refs `git ls-remote` lists (protocol v0: from the info/refs advertisement alone). */
async function lsRemote(agent: string): Promise<Record<string, string>> {
  const result = await gitAsync(["-c", "protocol.version=0", "ls-remote", remote(agent)]);
  expect(result.exitCode).toBe(0);
  const refs: Record<string, string> = {};
  for (const line of new TextDecoder().decode(result.stdout).split("\n").filter(Boolean)) {
    const [oid, name] = line.split("\t");
    refs[name] = oid;
  }
  return refs;
}

/**
 * Copies what the store holds for `agent` (its packs, refs and HEAD) into a new bare repository
 * and checks it with `git fsck --strict`; returns the bare repository's path.
 */
async function exportAndFsck(agent: string): Promise<string> {
  const dir = tempDir("stategit-export-");
  dirs.push(dir.cleanup);
  git(["init", "-q", "--bare", dir.path]);
  const snapshot = await repos.snapshot(ORG, agent);
  for (const name of snapshot.manifest.packs) {
    for (const extension of [".pack", ".idx"]) {
      const blob = await store.get(`${ORG}/${agent}/packs/${name}${extension}`);
      writeFileSync(join(dir.path, "objects", "pack", `${name}${extension}`), blob!);
    }
  }
  for (const [name, oid] of snapshot.refs) git(["update-ref", name, oid], { cwd: dir.path });
  git(["symbolic-ref", "HEAD", snapshot.head], { cwd: dir.path });
  git(["fsck", "--strict", "--no-dangling"], { cwd: dir.path });
  return dir.path;
}

async function push(cwd: string, args: string[], config: string[] = []) {
  const result = await gitAsync([...config, "push", "--porcelain", ...args], { cwd });
  return { ...result, stdout: new TextDecoder().decode(result.stdout) };
}

describe("git push over smart HTTP", () => {
  test("first push and fast-forward push, checked with fsck", async () => {
    const work = clientRepo("a1");
    const first = commitFile(work, "human.md", "# human\n");
    const pushed = await push(work, ["origin", "main"]);
    expect(pushed.exitCode).toBe(0);
    expect(pushed.stderr).toContain("remote: stored as generation 1");
    expect(await lsRemote("a1")).toEqual({ HEAD: first, "refs/heads/main": first });
    const second = commitFile(work, "persona.md", "# persona\n");
    expect((await push(work, ["origin", "main"])).exitCode).toBe(0);
    expect((await lsRemote("a1"))["refs/heads/main"]).toBe(second);
    const stored = await exportAndFsck("a1");
    expect(gitText(["show", "main:persona.md"], { cwd: stored })).toBe("# persona");
    expect(events.map((event) => event.after.manifest.generation)).toEqual([1, 2]);
  });

  test("a force push is refused, then allowed when the server allows it", async () => {
    const work = clientRepo("a2");
    commitFile(work, "a.md", "a\n");
    const base = commitFile(work, "b.md", "b\n");
    await push(work, ["origin", "main"]);
    git(["reset", "-q", "--hard", "HEAD~1"], { cwd: work });
    const rewritten = commitFile(work, "c.md", "c\n");

    const refused = await push(work, ["--force", "origin", "main"]);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stdout).toContain("non-fast-forward");
    expect((await lsRemote("a2"))["refs/heads/main"]).toBe(base);

    allowForcePush = true;
    expect((await push(work, ["--force", "origin", "main"])).exitCode).toBe(0);
    expect((await lsRemote("a2"))["refs/heads/main"]).toBe(rewritten);
    await exportAndFsck("a2");
  });

  test("deleting a branch works; deleting the default branch is refused", async () => {
    const work = clientRepo("a3");
    const tip = commitFile(work, "a.md", "a\n");
    await push(work, ["origin", "main", "main:refs/heads/topic"]);
    expect((await lsRemote("a3"))["refs/heads/topic"]).toBe(tip);
    expect((await push(work, ["origin", ":topic"])).exitCode).toBe(0);
    expect((await lsRemote("a3"))["refs/heads/topic"]).toBeUndefined();
    const refused = await push(work, ["origin", ":main"]);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stdout).toContain("deletion of the current branch prohibited");
    expect((await lsRemote("a3"))["refs/heads/main"]).toBe(tip);
  });

  test("--atomic: one refused ref keeps the others from landing", async () => {
    const work = clientRepo("a4");
    const tip = commitFile(work, "a.md", "a\n");
    await push(work, ["origin", "main"]);
    const refused = await push(work, ["--atomic", "origin", ":main", "main:refs/heads/other"]);
    expect(refused.exitCode).not.toBe(0);
    expect(await lsRemote("a4")).toEqual({ HEAD: tip, "refs/heads/main": tip });
    expect((await push(work, ["--atomic", "origin", "main:refs/heads/x", "main:refs/heads/y"])).exitCode).toBe(0);
    expect(Object.keys(await lsRemote("a4")).sort()).toEqual(["HEAD", "refs/heads/main", "refs/heads/x", "refs/heads/y"]);
  });

  test("push options reach the commit hook", async () => {
    const work = clientRepo("a5");
    commitFile(work, "a.md", "a\n");
    expect((await push(work, ["-o", "ci.skip", "-o", "note=two words", "origin", "main"])).exitCode).toBe(0);
    expect(events[0].pushOptions).toEqual(["ci.skip", "note=two words"]);
  });

  test("a large push (chunked, after the probe) and a push from a shallow clone", async () => {
    const work = clientRepo("a6");
    commitFile(work, "a.md", "a\n");
    commitFile(work, "b.md", "b\n");
    commitFile(work, "big.bin", randomBytes(256 * 1024));
    expect((await push(work, ["origin", "main"], ["-c", "http.postBuffer=4096"])).exitCode).toBe(0);
    expect(receivePackBodies.length).toBe(2);
    expect(new TextDecoder().decode(receivePackBodies[0])).toBe("0000");

    const stored = await exportAndFsck("a6");
    expect(gitText(["cat-file", "-s", "main:big.bin"], { cwd: stored })).toBe(String(256 * 1024));
    const shallow = tempDir("stategit-shallow-");
    dirs.push(shallow.cleanup);
    git(["clone", "-q", "--depth", "1", `file://${stored}`, shallow.path]);
    git(["remote", "set-url", "origin", remote("a6")], { cwd: shallow.path });
    const tip = commitFile(shallow.path, "c.md", "from a shallow clone\n");
    expect((await push(shallow.path, ["origin", "main"])).exitCode).toBe(0);
    expect((await lsRemote("a6"))["refs/heads/main"]).toBe(tip);
    await exportAndFsck("a6");
  });

  test("tags, annotated and lightweight, round-trip", async () => {
    const work = clientRepo("a7");
    commitFile(work, "a.md", "a\n");
    git(["tag", "-a", "v1", "-m", "release"], { cwd: work });
    git(["tag", "light"], { cwd: work });
    expect((await push(work, ["origin", "main", "--tags"])).exitCode).toBe(0);
    const stored = await exportAndFsck("a7");
    expect(gitText(["tag", "--list"], { cwd: stored }).split("\n")).toEqual(["light", "v1"]);
    expect(gitText(["cat-file", "-t", "v1"], { cwd: stored })).toBe("tag");
  });
});
