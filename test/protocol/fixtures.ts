import { afterAll, beforeAll } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RepositorySnapshot } from "../../src/protocol/snapshot.ts";
import { git, tempDir } from "../support/git.ts";
import { snapshotOf } from "./repository.ts";

/** git config that makes git's upload-pack offer what stategit offers (for oracle comparisons). */
export const ORACLE_CONFIG = [
  "-c", "uploadpack.allowTipSHA1InWant=true",
  "-c", "uploadpack.allowReachableSHA1InWant=true",
  "-c", "uploadpack.allowFilter=true",
  "-c", "uploadpack.allowRefInWant=true",
];

/**
 * A small history: `main` with `commits` commits touching a few files (one in a subdirectory),
 * a `topic` branch one commit ahead of main~1, an annotated tag v1 on main~1 and a lightweight
 * tag `light` on main. Every commit gets its own date so deepen-since has something to cut.
 */
export function createHistory(dir: string, commits = 6): void {
  git(["init", "-q", "-b", "main", dir]);
  mkdirSync(join(dir, "system"));
  for (let i = 1; i <= commits; i++) {
    writeFileSync(join(dir, "memory.md"), `# memory\n${"fact line\n".repeat(i * 3)}entry ${i}\n`);
    writeFileSync(join(dir, "system", `note-${i % 3}.md`), `note ${i}\n${"x".repeat(200 * i)}\n`);
    git(["-C", dir, "add", "."]);
    const date = `${1700000000 + i * 86400} +0000`;
    git(["-C", dir, "commit", "-q", "-m", `commit ${i}`], { env: { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } });
    if (i === commits - 1) {
      git(["-C", dir, "tag", "-a", "v1", "-m", "version one"], { env: { GIT_COMMITTER_DATE: date } });
      git(["-C", dir, "branch", "topic"]);
    }
  }
  git(["-C", dir, "tag", "light"]);
  git(["-C", dir, "checkout", "-q", "topic"]);
  writeFileSync(join(dir, "skills.md"), "topic work\n");
  git(["-C", dir, "add", "."]);
  git(["-C", dir, "commit", "-q", "-m", "topic commit"]);
  git(["-C", dir, "checkout", "-q", "main"]);
}

export interface HistoryFixture {
  /** The temporary directory holding the repository (and room for clones). */
  workspace: string;
  repo: string;
  snapshot: RepositorySnapshot;
}

/** Creates the history in a temporary directory before the file's tests, removes it after. */
export function useHistory(commits?: number): HistoryFixture {
  const fixture = {} as HistoryFixture;
  let cleanup = () => {};
  beforeAll(() => {
    const workspace = tempDir();
    cleanup = workspace.cleanup;
    fixture.workspace = workspace.path;
    fixture.repo = join(workspace.path, "repo");
    createHistory(fixture.repo, commits);
    fixture.snapshot = snapshotOf(fixture.repo);
  });
  afterAll(() => cleanup());
  return fixture;
}
