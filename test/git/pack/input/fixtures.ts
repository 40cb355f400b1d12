/**
 * Repositories and packs for the pack tests, generated with `git fast-import` from a seeded
 * stream: thousands of commits of small text edits, renames, binary files and edits to them,
 * blobs over 1 MiB, a commit with an empty tree, annotated tags. Built once per machine under
 * the temp directory (atomically renamed into place), then reused.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GitObject, ObjectReader } from "../../../../src/git/object/object.ts";
import type { Oid } from "../../../../src/git/oid.ts";
import { mapReader, readAllObjects } from "../../../protocol/repository.ts";
import { git, gitText, tempDir } from "../../../support/git.ts";
import { seededRandom } from "../../../support/random.ts";

const FIXTURE_VERSION = 2;
const WORDS = "agent memory block state value label human persona skill system tool note plan goal task".split(" ");

export interface RepoFixture {
  /** The bare repository. */
  gitDir: string;
  /** Its single pack after `git repack -adf --depth=50 --window=250`. */
  pack: Uint8Array;
  packPath: string;
  /** `git index-pack`'s .idx for that pack. */
  idx: Uint8Array;
}

function fastImportStream(commits: number): Uint8Array {
  const random = seededRandom(7);
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const emit = (text: string) => parts.push(encoder.encode(text));
  const data = (bytes: Uint8Array | string) => {
    const raw = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
    emit(`data ${raw.length}\n`);
    parts.push(raw, encoder.encode("\n"));
  };
  const line = () => Array.from({ length: 6 }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" ");
  const randomBytes = (length: number) => Uint8Array.from({ length }, () => Math.floor(random() * 256));
  const files = new Map<string, string[]>();
  for (let i = 0; i < 40; i++) files.set(`dir${i % 5}/sub${i % 3}/note${i}.md`, Array.from({ length: 30 }, line));
  let binary = randomBytes(8192);
  // Over 1 MiB, compressible but not trivially: repeated random lines.
  const largeLines = Array.from({ length: 600 }, line);
  let large = Array.from({ length: 34000 }, (_, i) => largeLines[(i * 7919) % largeLines.length]);

  const writeAll = () => {
    for (const [path, lines] of files) {
      emit(`M 100644 inline ${path}\n`);
      data(lines.join("\n") + "\n");
    }
  };
  for (let commit = 1; commit <= commits; commit++) {
    emit(`commit refs/heads/main\nmark :${commit}\n`);
    emit(`committer Fixture <fixture@example.com> ${1700000000 + commit * 60} +0000\n`);
    data(`commit ${commit}\n\n${line()}\n`);
    if (commit === 1) writeAll();
    else if (commit === 300) emit("deleteall\n"); // this commit's tree is the empty tree
    else if (commit === 301) writeAll();
    else {
      for (let edit = 0; edit < 1 + Math.floor(random() * 3); edit++) {
        const paths = [...files.keys()];
        const path = paths[Math.floor(random() * paths.length)];
        const lines = files.get(path) as string[];
        lines[Math.floor(random() * lines.length)] = line();
        if (random() < 0.3) lines.push(line());
        emit(`M 100644 inline ${path}\n`);
        data(lines.join("\n") + "\n");
      }
      if (commit % 97 === 0) {
        const paths = [...files.keys()];
        const from = paths[Math.floor(random() * paths.length)];
        const to = `renamed/${commit}/${from.split("/").pop()}`;
        files.set(to, files.get(from) as string[]);
        files.delete(from);
        emit(`R ${from} ${to}\n`);
      }
      if (commit % 50 === 0) {
        binary = binary.slice();
        binary.set(randomBytes(64), Math.floor(random() * (binary.length - 64)));
        emit("M 100644 inline assets/data.bin\n");
        data(binary);
        emit(`M 100755 inline assets/blob${commit}.bin\n`);
        data(randomBytes(1000 + Math.floor(random() * 3000)));
      }
      if (commit % 400 === 0) {
        large = large.slice();
        large[Math.floor(random() * large.length)] = line();
        emit("M 100644 inline assets/large.txt\n");
        data(large.join("\n"));
      }
    }
    emit("\n");
    if (commit % 500 === 0) {
      emit(`tag v${commit}\nfrom :${commit}\ntagger Fixture <fixture@example.com> ${1700000000 + commit * 60} +0000\n`);
      data(`release ${commit}\n`);
    }
  }
  return Buffer.concat(parts);
}

function buildRepository(path: string, commits: number): void {
  git(["init", "-q", "--bare", "-b", "main", path]);
  git(["fast-import", "--quiet"], { cwd: path, input: fastImportStream(commits) });
  git(["repack", "-adfq", "--depth=50", "--window=250"], { cwd: path });
  git(["index-pack", "-o", join(path, ORACLE_IDX), packPath(path)]);
}

/** Where the fixture keeps `git index-pack`'s own output for its pack. */
const ORACLE_IDX = "index-pack.idx";

function packPath(gitDir: string): string {
  const dir = join(gitDir, "objects", "pack");
  const name = readdirSync(dir).find((file) => file.endsWith(".pack"));
  if (!name) throw new Error(`no pack in ${dir}`);
  return join(dir, name);
}

/** The generated repository with `commits` commits (2000 for the oracle tests). */
export function repoFixture(commits = 2000): RepoFixture {
  const gitDir = join(tmpdir(), `stategit-pack-fixture-v${FIXTURE_VERSION}-${commits}.git`);
  if (!existsSync(join(gitDir, "objects", "pack"))) {
    const building = `${gitDir}.${process.pid}.tmp`;
    rmSync(building, { recursive: true, force: true });
    mkdirSync(building, { recursive: true });
    buildRepository(building, commits);
    renameSync(building, gitDir);
  }
  const path = packPath(gitDir);
  return { gitDir, pack: new Uint8Array(readFileSync(path)), packPath: path, idx: new Uint8Array(readFileSync(join(gitDir, ORACLE_IDX))) };
}

/** Every object of a repository (`git cat-file --batch-all-objects`) as an ObjectReader. */
export function repositoryReader(gitDir: string): ObjectReader & { objects: Map<Oid, GitObject> } {
  const objects = readAllObjects(gitDir);
  return { objects, ...mapReader(objects) };
}

/** One line per object of `git verify-pack -v`: id, type, size, and chain length for deltas. */
export function verifyPackListing(packPath: string): Map<Oid, { type: string; size: number; offset: number; depth: number }> {
  const listing = new Map<Oid, { type: string; size: number; offset: number; depth: number }>();
  for (const row of gitText(["verify-pack", "-v", packPath]).split("\n")) {
    const fields = row.split(/\s+/);
    if (fields.length < 5 || !/^[0-9a-f]{40}$/.test(fields[0])) continue;
    listing.set(fields[0], { type: fields[1], size: Number(fields[2]), offset: Number(fields[4]), depth: fields.length >= 7 ? Number(fields[5]) : 0 });
  }
  return listing;
}

/** `git cat-file --batch-check` of every object: its type and size. */
export function objectSizes(gitDir: string): Map<Oid, { type: string; size: number }> {
  const sizes = new Map<Oid, { type: string; size: number }>();
  for (const row of gitText(["cat-file", "--batch-all-objects", "--batch-check"], { cwd: gitDir }).split("\n")) {
    const [oid, type, size] = row.split(" ");
    sizes.set(oid, { type, size: Number(size) });
  }
  return sizes;
}

/** `git show-index`: id, offset and CRC-32 of every object of an .idx. */
export function showIndex(idx: Uint8Array): { oid: Oid; offset: number; crc32: number }[] {
  return new TextDecoder()
    .decode(git(["show-index"], { input: idx }).stdout)
    .trim()
    .split("\n")
    .filter((row) => row !== "")
    .map((row) => {
      const [offset, oid, crc] = row.split(" ");
      return { oid, offset: Number(offset), crc32: parseInt(crc.slice(1, -1), 16) };
    });
}

/** Writes `pack` to a temporary file, runs `body` with its path, then removes it. */
export function withPackFile<T>(pack: Uint8Array, body: (packPath: string) => T): T {
  const dir = tempDir("stategit-pack-");
  try {
    const path = join(dir.path, "test.pack");
    writeFileSync(path, pack);
    return body(path);
  } finally {
    dir.cleanup();
  }
}

/** `git index-pack [args]` on `pack` (in `cwd`, for --strict or --fix-thin against a repository): its .idx bytes. */
export function gitIndexPack(pack: Uint8Array, args: string[] = [], cwd?: string): Uint8Array {
  return withPackFile(pack, (path) => {
    const idxPath = path.replace(/\.pack$/, ".idx");
    git(["index-pack", ...args, "-o", idxPath, path], { cwd });
    return new Uint8Array(readFileSync(idxPath));
  });
}
