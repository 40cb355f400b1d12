/** Repositories of the previous service's layout (`{org}/{agent}/repo.git/`), made by the real git client, and checks of imported ones. */
import { cpSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Oid } from "../../src/git/oid.ts";
import type { Repositories } from "../../src/repo/repository.ts";
import type { BlobStore } from "../../src/storage/blob-store.ts";
import { git, gitText, tempDir } from "../support/git.ts";

/** A directory laid out as the previous service's bucket; `url` is its `file:` URL. */
export class LegacyBucket {
  readonly root: string;
  readonly cleanup: () => void;

  constructor() {
    ({ path: this.root, cleanup: this.cleanup } = tempDir("stategit-legacy-"));
  }

  get url(): string {
    return `file:${this.root}`;
  }

  /** Copies a working repository's `.git` directory to `{org}/{agent}/repo.git/`, replacing what was there. */
  put(org: string, agent: string, workdir: string): string {
    const target = this.gitDir(org, agent);
    rmSync(target, { recursive: true, force: true });
    cpSync(join(workdir, ".git"), target, { recursive: true });
    return target;
  }

  gitDir(org: string, agent: string): string {
    return join(this.root, org, agent, "repo.git");
  }
}

/** A working repository with a fixed clock, so the same steps make the same ids. */
export class SourceRepo {
  readonly path: string;
  readonly cleanup: () => void;
  private tick = 0;

  constructor(branch = "main") {
    ({ path: this.path, cleanup: this.cleanup } = tempDir("stategit-source-"));
    git(["init", "-q", "-b", branch, this.path]);
  }

  run(...args: string[]): string {
    const date = `${1700000000 + ++this.tick} +0000`;
    return gitText(args, { cwd: this.path, env: { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } });
  }

  commit(files: Record<string, string>, message = `commit ${this.tick}`): Oid {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(this.path, name), content);
    this.run("add", "-A");
    this.run("commit", "-q", "-m", message);
    return this.run("rev-parse", "HEAD");
  }

  /** Every ref, name → id, as git for-each-ref lists them. */
  refs(): Map<string, Oid> {
    const listed = this.run("for-each-ref", "--format=%(refname) %(objectname)");
    return new Map(listed === "" ? [] : listed.split("\n").map((line) => line.split(" ") as [string, Oid]));
  }

  /** The path of a loose object's file. */
  looseObjectPath(oid: Oid): string {
    return join(this.path, ".git", "objects", oid.slice(0, 2), oid.slice(2));
  }
}

/**
 * A repository with objects and refs in every form git keeps them: history packed by `git gc`
 * with its refs in packed-refs (a branch, an annotated tag), then loose commits, a loose ref
 * overriding its packed value, a lightweight tag, an annotated tag of another branch.
 */
export function richRepository(branch = "main"): SourceRepo {
  const repo = new SourceRepo(branch);
  repo.commit({ "a.md": "one\n" });
  repo.commit({ "b.md": "two\n" });
  repo.run("tag", "-a", "v1", "-m", "release one");
  repo.run("branch", "stable");
  repo.run("gc", "-q");
  repo.commit({ "a.md": "one, edited\n" });
  repo.run("tag", "light");
  repo.run("checkout", "-q", "-b", "feature");
  repo.commit({ "c.md": "feature\n" });
  repo.run("tag", "-a", "v2", "-m", "release two");
  repo.run("checkout", "-q", branch);
  return repo;
}

/**
 * Adds `refs/heads/{name}` to a commit whose new blob is then deleted: the previous service's
 * known failure, a ref pointing at history whose objects are missing. Returns the deleted blob's id.
 */
export function addBrokenBranch(repo: SourceRepo, name: string): Oid {
  const current = repo.run("symbolic-ref", "--short", "HEAD");
  repo.run("checkout", "-q", "-b", name);
  repo.commit({ "lost.md": `never stored (${name})\n` });
  const blob = repo.run("rev-parse", "HEAD:lost.md");
  repo.run("checkout", "-q", current);
  rmSync(repo.looseObjectPath(blob));
  return blob;
}

/**
 * Copies what `repositories` hold for `{org}/{agent}` (packs, refs, HEAD) into a new bare
 * repository and runs `git fsck --full --strict` on it; returns the bare repository's path.
 */
export async function exportAndFsck(store: BlobStore, repositories: Repositories, org: string, agent: string, into: string): Promise<string> {
  git(["init", "-q", "--bare", into]);
  const snapshot = await repositories.snapshot(org, agent);
  for (const name of snapshot.manifest.packs) {
    for (const extension of [".pack", ".idx"]) {
      writeFileSync(join(into, "objects", "pack", `${name}${extension}`), (await store.get(`${org}/${agent}/packs/${name}${extension}`))!);
    }
  }
  for (const [name, oid] of snapshot.refs) git(["update-ref", name, oid], { cwd: into });
  git(["symbolic-ref", "HEAD", snapshot.head], { cwd: into });
  git(["fsck", "--full", "--strict", "--no-dangling"], { cwd: into });
  return into;
}
