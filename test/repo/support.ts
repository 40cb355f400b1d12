/** A scratch git repository that makes the commits and packs repository tests push. */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ManifestStore } from "../../src/db/manifests.ts";
import { openDatabase } from "../../src/db/open.ts";
import type { Oid } from "../../src/git/oid.ts";
import type { BlobStore } from "../../src/storage/blob-store.ts";
import { git, gitText, tempDir } from "../support/git.ts";

export class Workdir {
  readonly path: string;
  readonly cleanup: () => void;
  private tick = 0;

  constructor() {
    ({ path: this.path, cleanup: this.cleanup } = tempDir("stategit-repo-"));
    git(["init", "-q", "-b", "main", this.path]);
  }

  /** Writes `files` and commits them on the current branch (or on `parents` when given). */
  commit(files: Record<string, string>, message = `commit ${++this.tick}`, parents?: Oid[]): Oid {
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(dirname(join(this.path, name)), { recursive: true });
      writeFileSync(join(this.path, name), content);
    }
    git(["add", "-A"], { cwd: this.path });
    const tree = gitText(["write-tree"], { cwd: this.path });
    const parentArgs = (parents ?? this.headCommit()).flatMap((parent) => ["-p", parent]);
    const commit = gitText(["commit-tree", tree, ...parentArgs, "-m", message], {
      cwd: this.path,
      env: { GIT_COMMITTER_DATE: `${1700000000 + this.tick} +0000`, GIT_AUTHOR_DATE: `${1700000000 + this.tick} +0000` },
    });
    git(["update-ref", "HEAD", commit], { cwd: this.path });
    return commit;
  }

  /** A pack of what `include` reaches and `exclude` does not (thin: deltas against excluded objects). */
  pack(include: Oid[], exclude: Oid[] = [], thin = false): Uint8Array {
    const revs = [...include, ...exclude.map((oid) => `^${oid}`)].join("\n") + "\n";
    return git(["pack-objects", "--stdout", "--revs", ...(thin ? ["--thin"] : []), "-q"], { cwd: this.path, input: revs }).stdout;
  }

  private headCommit(): Oid[] {
    const result = git(["rev-parse", "-q", "--verify", "HEAD"], { cwd: this.path, allowFailure: true });
    return result.exitCode === 0 ? [new TextDecoder().decode(result.stdout).trim()] : [];
  }
}

/** A store that forwards to `base`, except for the operations given. */
export function wrapStore(base: BlobStore, overrides: Partial<BlobStore>): BlobStore {
  return {
    get: (key) => base.get(key),
    createOnly: (key, data) => base.createOnly(key, data),
    delete: (key) => base.delete(key),
    list: (prefix) => base.list(prefix),
    ping: () => base.ping(),
    ...overrides,
  };
}

/** Manifest rows in a database of their own (SQLite in memory). */
export async function memoryManifests(): Promise<ManifestStore> {
  return new ManifestStore(await openDatabase("sqlite::memory:"));
}
