import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CorruptDataError, LimitExceededError } from "../../../src/git/errors.ts";
import { parseLooseObject } from "../../../src/git/gitdir/index.ts";
import { hashObject, type ObjectType } from "../../../src/git/object/object.ts";
import { git, gitText, tempDir } from "../../support/git.ts";
import { CODECS } from "../codecs.ts";

interface LooseFile {
  oid: string;
  file: Uint8Array;
  type: ObjectType;
  data: Uint8Array;
}

/** Every loose object of a scratch repository git wrote (blobs, trees, a commit, an annotated tag), with git cat-file's view of it. */
function looseObjects(): LooseFile[] {
  const dir = tempDir();
  try {
    git(["init", "-q", "-b", "main", dir.path]);
    writeFileSync(join(dir.path, "a.txt"), "hello\n");
    writeFileSync(join(dir.path, "empty"), "");
    git(["add", "-A"], { cwd: dir.path });
    git(["commit", "-q", "-m", "first"], { cwd: dir.path });
    git(["tag", "-a", "v1", "-m", "a tag"], { cwd: dir.path });
    const objects = join(dir.path, ".git", "objects");
    const found: LooseFile[] = [];
    for (const fanout of readdirSync(objects).filter((name) => /^[0-9a-f]{2}$/.test(name))) {
      for (const rest of readdirSync(join(objects, fanout))) {
        const oid = fanout + rest;
        const type = gitText(["cat-file", "-t", oid], { cwd: dir.path }) as ObjectType;
        const data = git(["cat-file", type, oid], { cwd: dir.path }).stdout;
        found.push({ oid, file: new Uint8Array(readFileSync(join(objects, fanout, rest))), type, data });
      }
    }
    return found;
  } finally {
    dir.cleanup();
  }
}

describe.each(CODECS)("parseLooseObject (%s)", (_, codec) => {
  const objects = looseObjects();
  const make = (header: string, data: Uint8Array, type: ObjectType = "blob") => {
    const full = new Uint8Array([...new TextEncoder().encode(header), ...data]);
    return { oid: hashObject(codec, type, data), file: codec.deflate(full) };
  };

  test("reads every loose object git wrote, as git cat-file shows it", () => {
    expect(new Set(objects.map(({ type }) => type))).toEqual(new Set(["blob", "tree", "commit", "tag"]));
    for (const { oid, file, type, data } of objects) {
      const object = parseLooseObject(oid, file, codec, 1024);
      expect(object.type).toBe(type);
      expect(object.data).toEqual(data);
    }
  });

  test("refuses content that does not hash to the file's name", () => {
    const [{ oid, file }, other] = objects;
    expect(() => parseLooseObject(other.oid, file, codec, 1024)).toThrow(CorruptDataError);
    expect(() => parseLooseObject(oid, file, codec, 1024)).not.toThrow();
  });

  test("refuses bytes after the zlib stream, a bad header, a wrong size", () => {
    const data = new TextEncoder().encode("hi");
    const good = make("blob 2\0", data);
    expect(parseLooseObject(good.oid, good.file, codec, 100).data).toEqual(data);
    expect(() => parseLooseObject(good.oid, new Uint8Array([...good.file, 0]), codec, 100)).toThrow(CorruptDataError);
    for (const header of ["blob 3\0", "blob\0", "blob 2", "blobs 2\0", "blob -2\0", "blob 0x2\0", "blob \0", " 2\0"]) {
      const bad = make(header, data);
      expect(() => parseLooseObject(good.oid, bad.file, codec, 100)).toThrow(CorruptDataError);
    }
    expect(() => parseLooseObject(good.oid, new Uint8Array([1, 2, 3]), codec, 100)).toThrow(CorruptDataError);
  });

  test("content beyond the size limit is refused before it is inflated whole", () => {
    const big = make("blob 100000\0", new Uint8Array(100000));
    expect(parseLooseObject(big.oid, big.file, codec, 100000).data.length).toBe(100000);
    expect(() => parseLooseObject(big.oid, big.file, codec, 1000)).toThrow(LimitExceededError);
  });
});
