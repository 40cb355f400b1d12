import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Codec } from "../../../../src/git/codec/index.ts";
import type { GitObject, ObjectType } from "../../../../src/git/object/object.ts";
import type { Oid } from "../../../../src/git/oid.ts";
import { PackObjectKind, readEntryHeader } from "../../../../src/git/pack/format.ts";
import type { PackSource, PackWriteResult } from "../../../../src/git/pack/output/index.ts";
import type { PackObjectSpec, StoredEntry } from "../../../../src/git/pack/types.ts";
import { git, gitText, tempDir } from "../../../support/git.ts";
import { seededRandom } from "../../../support/random.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const WORDS = "agent memory block state value label human persona skill system tool note plan goal task fact".split(" ");

export interface RepoShape {
  commits: number;
  files: number;
  /** Size of the one large binary file, rewritten in place now and then. */
  largeBlobBytes: number;
}

/**
 * A repository from a deterministic `git fast-import` stream: an empty first commit (empty
 * tree), text files edited line by line, renames, deletions, small binaries that change a few
 * bytes at a time, one large blob, and a commit that empties the tree before it is restored.
 */
export function generateRepository(dir: string, shape: RepoShape): void {
  git(["init", "-q", "--bare", "-b", "main", dir]);
  const random = seededRandom(7);
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  const line = () => Array.from({ length: 6 + Math.floor(random() * 6) }, () => pick(WORDS)).join(" ");
  const files = new Map<string, string[] | Uint8Array>();
  const parts: Uint8Array[] = [];
  const emit = (text: string) => parts.push(encoder.encode(text));
  const data = (bytes: Uint8Array) => {
    emit(`data ${bytes.length}\n`);
    parts.push(bytes, encoder.encode("\n"));
  };
  const write = (path: string, content: string[] | Uint8Array) => {
    files.set(path, content);
    emit(`M 100644 inline ${path}\n`);
    data(content instanceof Uint8Array ? content : encoder.encode(content.join("\n") + "\n"));
  };
  const randomBytes = (length: number) => Uint8Array.from({ length }, () => Math.floor(random() * 256));
  let nextFile = 0;
  const newTextFile = () => write(`dir${nextFile % 7}/note${nextFile++}.md`, Array.from({ length: 20 + Math.floor(random() * 60) }, line));
  for (let commit = 0; commit < shape.commits; commit++) {
    emit(`commit refs/heads/main\ncommitter Gen <gen@example.com> ${1700000000 + commit * 60} +0000\n`);
    data(encoder.encode(`change ${commit}\n`));
    if (commit === 0) continue;
    if (commit === 1 || commit === Math.floor(shape.commits / 2) + 1) {
      for (let i = 0; i < shape.files; i++) newTextFile();
      write("assets/logo.bin", randomBytes(6000));
      write("assets/large.bin", randomBytes(shape.largeBlobBytes));
      continue;
    }
    if (commit === Math.floor(shape.commits / 2)) {
      emit("deleteall\n");
      files.clear();
      continue;
    }
    const textPaths = [...files.keys()].filter((path) => path.endsWith(".md"));
    for (let edit = 0; edit < 3; edit++) {
      const path = pick(textPaths);
      const lines = [...(files.get(path) as string[])];
      lines[Math.floor(random() * lines.length)] = line();
      if (random() < 0.3) lines.splice(Math.floor(random() * lines.length), 0, line());
      write(path, lines);
    }
    if (commit % 25 === 0) {
      const from = pick(textPaths);
      const to = `moved/${from.replace("/", "-")}`;
      emit(`R ${from} ${to}\n`);
      files.set(to, files.get(from)!);
      files.delete(from);
    }
    if (commit % 40 === 0) newTextFile();
    if (commit % 55 === 0 && textPaths.length > shape.files / 2) {
      const gone = pick(textPaths);
      emit(`D ${gone}\n`);
      files.delete(gone);
    }
    if (commit % 10 === 0) {
      const logo = Uint8Array.from(files.get("assets/logo.bin") as Uint8Array);
      for (let i = 0; i < 8; i++) logo[Math.floor(random() * logo.length)] = Math.floor(random() * 256);
      write("assets/logo.bin", logo);
    }
    if (commit % 300 === 0) {
      const large = Uint8Array.from(files.get("assets/large.bin") as Uint8Array);
      large.set(randomBytes(4096), Math.floor(random() * (large.length - 4096)));
      write("assets/large.bin", large);
    }
  }
  git(["fast-import", "--quiet"], { cwd: dir, input: Buffer.concat(parts) });
}

/** Every object of a repository, read with `git cat-file --batch-all-objects --batch`. */
export function loadObjects(repo: string): Map<Oid, GitObject> {
  const out = git(["cat-file", "--batch-all-objects", "--batch"], { cwd: repo }).stdout;
  const objects = new Map<Oid, GitObject>();
  let pos = 0;
  while (pos < out.length) {
    const newline = out.indexOf(0x0a, pos);
    const [oid, type, size] = decoder.decode(out.subarray(pos, newline)).split(" ");
    const start = newline + 1;
    objects.set(oid, { type: type as ObjectType, data: out.slice(start, start + Number(size)) });
    pos = start + Number(size) + 1;
  }
  return objects;
}

/** `git rev-list --objects ARGS` as specs (most recent first, with paths), and as git's own input. */
export function revListSpecs(repo: string, args: string[], objects: Map<Oid, GitObject>): { specs: PackObjectSpec[]; lines: string } {
  const lines = gitText(["rev-list", "--objects", ...args], { cwd: repo });
  const specs = lines
    .split("\n")
    .filter((text) => text.length > 0)
    .map((text) => {
      const oid = text.slice(0, 40);
      const path = text.length > 41 ? text.slice(41) : undefined;
      return { oid, type: objects.get(oid)!.type, path };
    });
  return { specs, lines: lines + "\n" };
}

/** Trees and blobs of one commit with their paths: what a thin pack may delta against. */
export function treeSpecs(repo: string, commit: string, objects: Map<Oid, GitObject>): PackObjectSpec[] {
  const root = gitText(["rev-parse", `${commit}^{tree}`], { cwd: repo });
  const listing = gitText(["ls-tree", "-r", "-t", commit], { cwd: repo });
  const specs: PackObjectSpec[] = [{ oid: root, type: "tree" }];
  for (const text of listing.split("\n").filter(Boolean)) {
    const [meta, path] = text.split("\t");
    const oid = meta.split(" ")[2];
    specs.push({ oid, type: objects.get(oid)!.type, path });
  }
  return specs;
}

/**
 * How each object is stored in the repository's packs: the compressed bytes after the entry
 * header, up to the next entry (offsets from `git show-index`).
 */
export function storedEntries(repo: string): Map<Oid, StoredEntry> {
  const stored = new Map<Oid, StoredEntry>();
  const packDir = join(repo, "objects", "pack");
  for (const name of readdirSync(packDir).filter((file) => file.endsWith(".idx"))) {
    const pack = new Uint8Array(readFileSync(join(packDir, name.replace(/\.idx$/, ".pack"))));
    const rows = gitText(["show-index"], { input: readFileSync(join(packDir, name)) })
      .split("\n")
      .map((text) => {
        const [offset, oid] = text.split(" ");
        return { offset: Number(offset), oid };
      })
      .sort((a, b) => a.offset - b.offset);
    const oidAt = new Map(rows.map((row) => [row.offset, row.oid]));
    const packIdentity = { name };
    rows.forEach((row, i) => {
      const end = i + 1 < rows.length ? rows[i + 1].offset : pack.length - 20;
      const header = readEntryHeader(pack, row.offset);
      const baseOid =
        header.baseOffset !== undefined
          ? oidAt.get(header.baseOffset)
          : header.baseOidOffset !== undefined
            ? Buffer.from(pack.subarray(header.baseOidOffset, header.baseOidOffset + 20)).toString("hex")
            : undefined;
      stored.set(row.oid, { kind: header.kind, size: header.size, compressed: pack.slice(row.offset + header.headerLength, end), baseOid, pack: packIdentity });
    });
  }
  return stored;
}

/** An in-memory PackSource; `stored` only when given. */
export function memorySource(objects: Map<Oid, GitObject>, stored?: Map<Oid, StoredEntry>): PackSource {
  return {
    hasObject: (oid) => objects.has(oid),
    readObject: (oid) => objects.get(oid),
    stored: stored ? (oid) => stored.get(oid) : undefined,
  };
}

/** Drains a pack stream: the bytes, the writer's result and how many chunks it came in. */
export async function collect(chunks: AsyncGenerator<Uint8Array, PackWriteResult>): Promise<{ pack: Uint8Array; result: PackWriteResult; chunkCount: number }> {
  const parts: Uint8Array[] = [];
  let step = await chunks.next();
  while (!step.done) {
    parts.push(step.value);
    step = await chunks.next();
  }
  return { pack: new Uint8Array(Buffer.concat(parts)), result: step.value, chunkCount: parts.length };
}

export interface IndexedPack {
  /** Object ids in the pack, with their entry kinds (from the headers at the offsets git found). */
  kinds: Map<Oid, PackObjectKind>;
  /** `git verify-pack -v` delta depth of every delta. */
  depths: number[];
}

/**
 * Indexes `pack` with `git index-pack --strict` in a new repository (with `--fix-thin` into a
 * copy of `thinBasesRepo` for thin packs), runs `git fsck --strict`, and reports the entry kinds
 * and delta depths. Throws when git refuses anything.
 */
export function indexWithGit(pack: Uint8Array, thinBasesRepo?: string): IndexedPack {
  const scratch = tempDir("stategit-pack-out-");
  try {
    const repo = join(scratch.path, "repo.git");
    if (thinBasesRepo) git(["clone", "-q", "--bare", "--no-local", thinBasesRepo, repo]);
    else git(["init", "-q", "--bare", repo]);
    const args = thinBasesRepo ? ["index-pack", "--strict", "--fix-thin", "--stdin"] : ["index-pack", "--strict", "--stdin"];
    const packName = gitText(args, { cwd: repo, input: pack }).replace(/^pack\s+/, "");
    git(["fsck", "--strict", "--no-dangling"], { cwd: repo });
    const idxPath = join(repo, "objects", "pack", `pack-${packName}.idx`);
    // With --fix-thin the pack on disk has the bases appended: read the kinds from it.
    const written = new Uint8Array(readFileSync(idxPath.replace(/\.idx$/, ".pack")));
    const kinds = new Map<Oid, PackObjectKind>();
    for (const text of gitText(["show-index"], { input: readFileSync(idxPath) }).split("\n").filter(Boolean)) {
      const [offset, oid] = text.split(" ");
      kinds.set(oid, readEntryHeader(written, Number(offset)).kind);
    }
    const depths = gitText(["verify-pack", "-v", idxPath])
      .split("\n")
      .map((text) => text.split(/\s+/))
      .filter((fields) => fields.length === 7 && /^[0-9a-f]{40}$/.test(fields[0]))
      .map((fields) => Number(fields[5]));
    return { kinds, depths };
  } finally {
    scratch.cleanup();
  }
}

/** Size of what `git pack-objects --no-reuse-delta --threads=1` writes for the same object list. */
export function gitPackSize(repo: string, objectLines: string, extra: string[] = []): number {
  const args = ["pack-objects", "--no-reuse-delta", "--threads=1", "--window=10", "--depth=50", "--stdout", "-q", ...extra];
  return git(args, { cwd: repo, input: objectLines }).stdout.length;
}

/** A StoredEntry holding `delta` against `baseOid`, as a pack would store it. */
export function storedDelta(codec: Codec, delta: Uint8Array, baseOid: Oid): StoredEntry {
  return { kind: PackObjectKind.RefDelta, size: delta.length, compressed: codec.deflate(delta), baseOid };
}
