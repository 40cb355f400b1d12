import { describe, expect, test } from "bun:test";
import { blockPath, checkChanges } from "../../src/blocks/index.ts";
import { memoryFile, memoryFiles, mirrorChanges, treeLayout, writeBlockFile, type MemoryFile } from "../../src/blocks/memory-file.ts";
import { treesOf, v1, v2, type FileSpec, type Files } from "./support.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const none = () => false;

describe("memoryFile", () => {
  test("a v1 block: label, description, read_only, limit, value after the front matter", () => {
    const file = memoryFile("v1", "system/human.md", bytes(v1("the human", "likes tea\n", "read_only: true\nlimit: 500\n")), "a".repeat(40), none);
    expect(file).toEqual({
      path: "system/human.md",
      label: "human",
      kind: "block",
      value: "likes tea\n",
      description: "the human",
      readOnly: true,
      limit: 500,
      blob: "a".repeat(40),
    });
  });

  test("read_only is true exactly when Letta's hook protects the file; limit only when a positive integer", () => {
    const quoted = memoryFile("v1", "system/a.md", bytes(v1("d", "v", 'read_only: "true"\nlimit: lots\n')), "b".repeat(40), none);
    expect(quoted.readOnly).toBe(false);
    expect(quoted.limit).toBeUndefined();
    const absent = memoryFile("v1", "system/a.md", bytes(v1("d", "v")), "b".repeat(40), none);
    expect("readOnly" in absent).toBe(false);
  });

  test("a v2 block has a name; indexes and files without front matter are all value", () => {
    const has = (path: string) => path === "MEMORY.md";
    expect(memoryFile("v2", "human.md", bytes(v2("Human", '"who: me"', "v")), "c".repeat(40), has)).toEqual({
      path: "human.md",
      label: "human",
      kind: "block",
      value: "v",
      name: "Human",
      description: "who: me",
      blob: "c".repeat(40),
    });
    expect(memoryFile("v2", "MEMORY.md", bytes("---\nx\n---\n# M"), "c".repeat(40), has)).toMatchObject({ label: "MEMORY", value: "---\nx\n---\n# M" });
    expect(memoryFile("v2", "notes/x.md", bytes("plain"), "c".repeat(40), has)).toMatchObject({ kind: "file", value: "plain" });
    expect(memoryFile("v2", "notes/x.md", bytes("plain"), "c".repeat(40), has).label).toBeUndefined();
  });

  test("skills keep their name and description; seed files are all value", () => {
    expect(memoryFile("v1", "skills/search/SKILL.md", bytes("---\nname: search\ndescription: web\n---\nhow"), "d".repeat(40), none)).toMatchObject({
      kind: "skill",
      name: "search",
      description: "web",
      value: "how",
    });
    expect(memoryFile("seed", "blocks/human.md", bytes(v1("d", "v")), "d".repeat(40), none)).toMatchObject({ label: "human", kind: "block", value: v1("d", "v") });
  });
});

const rows = (result: { upserts: MemoryFile[]; deletes: string[] }) => ({
  upserts: result.upserts.map(({ path, label, kind }) => `${path} ${label ?? "-"} ${kind}`).sort(),
  deletes: [...result.deletes].sort(),
});

function mirror(base: Files, change: Record<string, FileSpec | null>, blockLayout?: "letta" | "seed") {
  const { objects, oldTree, newTree } = treesOf(base, change);
  return rows(mirrorChanges({ objects, oldTree, newTree, blockLayout }));
}

describe("mirrorChanges", () => {
  test("only the changed memory files: written, replaced, removed", () => {
    const base = { "system/a.md": v1("a", "a"), "system/b.md": v1("b", "b"), "notes.md": "n", "data.json": "{}" };
    expect(mirror(base, { "system/a.md": v1("a", "a2"), "system/b.md": null, "skills/s/SKILL.md": "s", "data.json": "[]", "x.txt": "x" })).toEqual({
      upserts: ["skills/s/SKILL.md - skill", "system/a.md a block"],
      deletes: ["system/b.md"],
    });
  });

  test("a switch from v1 to v2 rewrites every row", () => {
    const base = { "system/a.md": v1("a", "a"), "notes.md": "n", "old.md": "o" };
    expect(mirror(base, { "MEMORY.md": "# M", "old.md": null })).toEqual({
      upserts: ["MEMORY.md MEMORY block", "notes.md notes block", "system/a.md - file"],
      deletes: ["old.md"],
    });
    expect(mirror({ "MEMORY.md": "# M", "a.md": v2("a", "a", "") }, { "MEMORY.md": null })).toEqual({ upserts: ["a.md - file"], deletes: ["MEMORY.md"] });
  });

  test("a v2 index added or removed relabels the files below it", () => {
    const base = { "MEMORY.md": "# M", "p/a.md": v2("a", "a", ""), "p/q/b.md": v2("b", "b", "") };
    expect(mirror(base, { "p/MEMORY.md": "# P" })).toEqual({ upserts: ["p/MEMORY.md p/MEMORY block", "p/a.md p/a block", "p/q/b.md - file"], deletes: [] });
    expect(mirror({ ...base, "p/MEMORY.md": "# P" }, { "p/MEMORY.md": null })).toEqual({ upserts: ["p/a.md - file", "p/q/b.md - file"], deletes: ["p/MEMORY.md"] });
    expect(mirror({ ...base, "p/MEMORY.md": "# P" }, { "p/MEMORY.md": "# P2" })).toEqual({ upserts: ["p/MEMORY.md p/MEMORY block"], deletes: [] });
  });

  test("symlinks are not rows; a file that becomes one is removed", () => {
    expect(mirror({ "a.md": "a" }, { "a.md": { content: "b.md", mode: 0o120000 }, "b.md": "b" })).toEqual({ upserts: ["b.md - file"], deletes: ["a.md"] });
  });

  test("submodules are not rows", () => {
    expect(mirror({ "a.md": "a" }, { "a.md": { content: "6".repeat(40), mode: 0o160000 }, "b.md": { content: "6".repeat(40), mode: 0o160000 } })).toEqual({ upserts: [], deletes: ["a.md"] });
  });

  test("seed layout", () => {
    expect(mirror({}, { "blocks/human.md": "h", "system/x.md": v1("x", "x") }, "seed")).toEqual({ upserts: ["blocks/human.md human block", "system/x.md - file"], deletes: [] });
  });

  test("memoryFiles lists every memory file of a tree", () => {
    const { objects, newTree } = treesOf({}, { "MEMORY.md": "# M", "a.md": v2("a", "a", "v"), "skills/s/SKILL.md": "s", "x.txt": "x" });
    expect(memoryFiles(objects, newTree).map(({ path }) => path)).toEqual(["MEMORY.md", "a.md", "skills/s/SKILL.md"]);
    expect(memoryFiles(objects, undefined)).toEqual([]);
  });
});

describe("writeBlockFile: what an API write leaves in the file", () => {
  const text = (data: Uint8Array) => new TextDecoder().decode(data);

  test("a new block passes the rules of its layout", () => {
    const v1File = writeBlockFile("v1", blockPath("v1", "human"), undefined, { value: "likes tea\n", description: "the human", limit: 100 });
    expect(text(v1File)).toBe("---\ndescription: the human\nlimit: 100\n---\nlikes tea\n");
    const v2File = writeBlockFile("v2", blockPath("v2", "tool-notes"), undefined, { value: "v", description: "notes" });
    expect(text(v2File)).toBe("---\nname: Tool Notes\ndescription: notes\n---\nv");
    for (const [base, path, file] of [
      [{}, "system/human.md", v1File],
      [{ "MEMORY.md": "# M" }, "tool-notes.md", v2File],
    ] as const) {
      const { objects, oldTree, newTree } = treesOf(base, { [path]: file });
      expect(checkChanges({ objects, oldTree, newTree })).toEqual([]);
    }
  });

  test("changing only the value keeps the front matter byte for byte", () => {
    const current = bytes("---\ndescription:   spaced   # note\nread_only: false\n---\nold\n");
    expect(text(writeBlockFile("v1", "system/a.md", current, { value: "new\n" }))).toBe("---\ndescription:   spaced   # note\nread_only: false\n---\nnew\n");
    expect(text(writeBlockFile("v1", "system/a.md", current, { value: "new\n", description: "spaced" }))).toBe("---\ndescription:   spaced   # note\nread_only: false\n---\nnew\n");
    expect(text(writeBlockFile("v2", "a.md", bytes(v2("A", "d", "old")), { value: "new", description: "e" }))).toBe(v2("A", "e", "new"));
  });

  test("indexes and seed files are all value", () => {
    expect(text(writeBlockFile("v2", "MEMORY.md", bytes("# old"), { value: "# new", description: "ignored" }))).toBe("# new");
    expect(text(writeBlockFile("seed", "blocks/a.md", undefined, { value: "v" }))).toBe("v");
  });

  test("treeLayout reads the layout of a tree", () => {
    const { objects, oldTree, newTree } = treesOf({ "system/a.md": v1("a", "a") }, { "MEMORY.md": "# M" });
    expect(treeLayout(objects, oldTree)).toBe("v1");
    expect(treeLayout(objects, newTree)).toBe("v2");
    expect(treeLayout(objects, undefined)).toBe("v1");
    expect(treeLayout(objects, newTree, "seed")).toBe("seed");
  });
});
