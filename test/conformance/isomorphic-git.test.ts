/**
 * isomorphic-git (a JavaScript client speaking protocol v1, and v2 for listing refs) against the
 * real server; everything it leaves behind is checked with C git.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import * as fs from "node:fs";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import isogit from "isomorphic-git";
import http from "isomorphic-git/http/node";
import { tempDir } from "../support/git.ts";
import { advanceMain, checkedClone, expectedRefs, seedAgent, type Seeded } from "./fixtures.ts";
import { CASE_TIMEOUT_MS, GitClient, StategitServer, writeFiles } from "./harness.ts";

setDefaultTimeout(CASE_TIMEOUT_MS);

let server: StategitServer;
let git: GitClient;
let scratch: { path: string; cleanup: () => void };
let seeded: Seeded;

beforeAll(async () => {
  scratch = tempDir("stategit-conformance-isogit-");
  git = new GitClient(0, scratch.path);
  server = await StategitServer.start({ variant: "sources" });
  seeded = await seedAgent({ git, server });
});

afterAll(async () => {
  await server?.stop();
  scratch?.cleanup();
});

const author = { name: "Iso Author", email: "iso@example.com", timestamp: 1_700_000_000, timezoneOffset: 0 };

/** isomorphic-git's options for one agent: it asks for credentials after the server's 401, as a credential helper would. */
function remote(agent: string) {
  return { fs, http, url: server.plainUrl(agent), onAuth: () => ({ username: "letta", password: server.key }) };
}

describe("isomorphic-git", () => {
  test("lists refs over v1 and v2 (with a ref prefix)", async () => {
    const expected = await expectedRefs(git, seeded.source);
    const v1 = await isogit.listServerRefs({ ...remote(seeded.agent), protocolVersion: 1, peelTags: true, symrefs: true });
    const head = v1.find((ref) => ref.ref === "HEAD");
    expect(head?.target).toBe("refs/heads/main");
    expect(head?.oid).toBe(expected.get("HEAD")!);
    const v2 = await isogit.listServerRefs({ ...remote(seeded.agent), protocolVersion: 2, prefix: "refs/tags/", peelTags: true });
    const tags = [...expected].filter(([name]) => name.startsWith("refs/tags/") && !name.endsWith("^{}"));
    expect(v2.map((ref) => [ref.ref, ref.oid]).sort()).toEqual(tags.sort());
    expect(v2.find((ref) => ref.ref === "refs/tags/v1")?.peeled).toBe(expected.get("refs/tags/v1^{}")!);
  });

  test("clone, fetch and push; C git agrees", async () => {
    const dir = git.dir("isogit");
    await isogit.clone({ ...remote(seeded.agent), dir });
    expect(await git.revParse(dir, "HEAD")).toBe(await git.revParse(seeded.source, "main"));
    expect(await git.revParse(dir, "refs/remotes/origin/feature")).toBe(await git.revParse(seeded.source, "feature"));
    expect(readFileSync(join(dir, "main/log.md"), "utf8")).toBe("main entry 12\n");
    await git.fsck(dir);

    const theirs = await advanceMain(git, seeded.url, 2, "c-git");
    const fetched = await isogit.fetch({ ...remote(seeded.agent), dir, ref: "main", singleBranch: true });
    expect(fetched.fetchHead).toBe(theirs);
    expect(await git.revParse(dir, "refs/remotes/origin/main")).toBe(theirs);
    await git.fsck(dir);

    await isogit.merge({ fs, dir, ours: "main", theirs: "origin/main", fastForwardOnly: true, author });
    await isogit.checkout({ fs, dir, ref: "main" });
    writeFiles(dir, { "iso/notes.md": "written by isomorphic-git\n" });
    await isogit.add({ fs, dir, filepath: "iso/notes.md" });
    const ours = await isogit.commit({ fs, dir, message: "from isomorphic-git", author });
    const pushed = await isogit.push({ ...remote(seeded.agent), dir, ref: "main" });
    expect(pushed.ok).toBe(true);
    expect(pushed.refs["refs/heads/main"]?.ok).toBe(true);
    expect((await git.lsRemote(seeded.url)).get("refs/heads/main")).toBe(ours);
    const check = await checkedClone(git, seeded.url);
    expect(await git.ok(["-C", check, "show", "main:iso/notes.md"])).toBe("written by isomorphic-git");
    expect(await git.revParse(check, "main~1")).toBe(theirs);
  });

  test("first push to a new agent, then a shallow clone", async () => {
    const agent = server.newAgent();
    const dir = git.dir("isogit-new");
    await isogit.init({ fs, dir, defaultBranch: "main" });
    writeFiles(dir, { "system/human.md": "---\ndescription: the human\n---\nAda\n" });
    await isogit.add({ fs, dir, filepath: "system/human.md" });
    const first = await isogit.commit({ fs, dir, message: "first", author });
    writeFiles(dir, { "system/human.md": "---\ndescription: the human\n---\nAda Lovelace\n" });
    await isogit.add({ fs, dir, filepath: "system/human.md" });
    const second = await isogit.commit({ fs, dir, message: "second", author: { ...author, timestamp: author.timestamp + 60 } });
    const pushed = await isogit.push({ ...remote(agent), dir, ref: "main" });
    expect(pushed.ok).toBe(true);
    expect(await git.lsRemote(server.url(agent))).toEqual(new Map([["HEAD", second], ["refs/heads/main", second]]));
    await checkedClone(git, server.url(agent));

    const shallow = git.dir("isogit-shallow");
    await isogit.clone({ ...remote(agent), dir: shallow, depth: 1 });
    expect(readFileSync(join(shallow, ".git/shallow"), "utf8").trim()).toBe(second);
    expect(await git.ok(["-C", shallow, "rev-list", "--count", "HEAD"])).toBe("1");
    expect(await git.ok(["-C", shallow, "cat-file", "-e", first]).catch(() => "missing")).toBe("missing");
    await git.fsck(shallow);
  });
});
