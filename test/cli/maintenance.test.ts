import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ManifestStore } from "../../src/db/manifests.ts";
import { openDatabase } from "../../src/db/open.ts";
import { ZERO_OID, type Oid } from "../../src/git/oid.ts";
import { Repositories } from "../../src/repo/repository.ts";
import { FileBlobStore } from "../../src/storage/file.ts";
import { Workdir } from "../repo/support.ts";
import { gitText, tempDir } from "../support/git.ts";
import { RUNNERS } from "./runners.ts";

const MAIN = "refs/heads/main";
const dir = tempDir("stategit-maintenance-");
const work = new Workdir();
afterAll(() => {
  dir.cleanup();
  work.cleanup();
});

const DATA = ["--storage", `file:${join(dir.path, "repos")}`, "--database", `sqlite:${join(dir.path, "stategit.db")}`];
const sources = RUNNERS.find((runner) => runner.name === "sources")!;

function stategit(...args: string[]) {
  const result = Bun.spawnSync([...sources.command, ...args, ...DATA], { cwd: dir.path, stdout: "pipe", stderr: "pipe" });
  return { status: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

const commits: Oid[] = [];
let topic: Oid;
let packsOfB: readonly string[];

beforeAll(async () => {
  const db = await openDatabase(`sqlite:${join(dir.path, "stategit.db")}`);
  const repos = new Repositories(new FileBlobStore(join(dir.path, "repos")), new ManifestStore(db), { compaction: false });
  for (let i = 0; i < 3; i++) {
    commits.push(work.commit({ [`system/note-${i}.md`]: `note ${i}\n`.repeat(10) }));
    const pack = work.pack([commits[i]], commits.slice(0, i));
    const result = await repos.push("acme", "a", { updates: [{ ref: MAIN, oldOid: commits[i - 1] ?? ZERO_OID, newOid: commits[i] }], pack });
    expect(result.statuses[0].ok).toBe(true);
  }
  topic = work.commit({ "system/topic.md": "gone soon\n" }, "topic", [commits[2]]);
  await repos.push("acme", "a", { updates: [{ ref: "refs/heads/topic", oldOid: ZERO_OID, newOid: topic }], pack: work.pack([topic], [commits[2]]) });
  await repos.push("acme", "a", { updates: [{ ref: "refs/heads/topic", oldOid: topic, newOid: ZERO_OID }] });
  await repos.push("acme", "b", { updates: [{ ref: MAIN, oldOid: ZERO_OID, newOid: commits[0] }], pack: work.pack([commits[0]]) });
  packsOfB = (await repos.snapshot("acme", "b")).manifest.packs;
  await db.close();
});

describe("maintenance commands", () => {
  test("fsck passes sound repositories; gc merges packs and drops a deleted branch's objects; fsck still passes", () => {
    expect(stategit("fsck")).toEqual({ status: 0, stdout: "fsck: 2 repositories checked, 0 with problems\n", stderr: "" });

    const onlyOnTopic = gitText(["rev-list", "--objects", topic, "--not", commits[2]], { cwd: work.path }).split("\n").length;
    const gc = stategit("gc", "--org", "acme", "--agent", "a", "--grace-period", "0s");
    expect(gc.status).toBe(0);
    expect(gc.stdout).toBe(
      `acme/a: merged 4 packs, dropped ${onlyOnTopic} unreachable objects, deleted 8 files\n` +
        `gc: 1 repositories, 4 packs merged, ${onlyOnTopic} unreachable objects dropped, 8 files deleted\n`,
    );
    expect(stategit("gc", "--grace-period", "0s").stdout).toBe("gc: 2 repositories, 0 packs merged, 0 unreachable objects dropped, 0 files deleted\n");
    expect(stategit("fsck", "--org", "acme").status).toBe(0);
  });

  test("on a terminal, fsck and gc draw a progress bar on stderr and erase it before their summary", () => {
    // script(1) runs the command on a pseudo-terminal; its output is what the terminal shows.
    const onTerminal = (...args: string[]) => {
      const command = [...sources.command, ...args, ...DATA].map((word) => `'${word}'`).join(" ");
      return Bun.spawnSync(["script", "-qec", command, "/dev/null"], { cwd: dir.path, stdout: "pipe", stderr: "pipe" }).stdout.toString();
    };
    const fsck = onTerminal("fsck");
    expect(fsck).toContain("\rChecking repositories: [");
    expect(fsck).toContain("\r\x1b[Kfsck: 2 repositories checked, 0 with problems");
    expect(onTerminal("gc", "--grace-period", "1h")).toContain("\rCompacting repositories: [");
  });

  test("fsck names a pack whose files are gone and a pack that is damaged, with exit status 1", () => {
    const packs = join(dir.path, "repos", "acme", "b", "packs");
    unlinkSync(join(packs, `${packsOfB[0]}.idx`));
    const missing = stategit("fsck", "--agent", "b");
    expect(missing.status).toBe(1);
    expect(missing.stdout).toContain(`acme/b: ${packsOfB[0]}: named by the manifest, but .idx gone from storage`);
    expect(missing.stdout).toContain(`acme/b: ${MAIN}: `);
    expect(missing.stdout).toEndWith("fsck: 1 repositories checked, 1 with problems\n");

    const aPacks = join(dir.path, "repos", "acme", "a", "packs");
    const [packFile] = new Bun.Glob("*.pack").scanSync(aPacks);
    const bytes = readFileSync(join(aPacks, packFile));
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(join(aPacks, packFile), bytes);
    const damaged = stategit("fsck", "--org", "acme", "--agent", "a");
    expect(damaged.status).toBe(1);
    expect(damaged.stdout).toStartWith(`acme/a: ${packFile.replace(/\.pack$/, "")}: `);
  });

  test("bad selections and durations are usage errors", () => {
    expect(stategit("fsck", "--org", "../x").status).toBe(2);
    expect(stategit("gc", "--agent", "a/b").status).toBe(2);
    expect(stategit("gc", "--grace-period", "soon").status).toBe(2);
  });
});
