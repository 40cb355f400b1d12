import { describe, expect, test } from "bun:test";
import type { MemoryFile } from "../../src/blocks/memory-file.ts";
import { MemoryMirror } from "../../src/db/mirror.ts";
import { databasePerTest, DATABASE_KINDS } from "./databases.ts";

const COMMIT = "c".repeat(40);
const file = (path: string, value: string, extra: Partial<MemoryFile> = {}): MemoryFile => ({
  path,
  kind: "block",
  label: path.replace(/^system\//, "").replace(/\.md$/, ""),
  value,
  blob: "b".repeat(40),
  ...extra,
});

for (const kind of DATABASE_KINDS) {
  describe.skipIf(kind.skip !== undefined)(`memory mirror on ${kind.name}`, () => {
    const { open } = databasePerTest(kind);

    test("rows are written and removed in the caller's transaction, and read back as written", async () => {
      const db = await open();
      const mirror = new MemoryMirror(db);
      const human = file("system/human.md", "Name: Ada\n", { description: "who the user is", readOnly: true, limit: 500 });
      const skill = { path: "skills/git/SKILL.md", kind: "skill" as const, value: "use git", name: "git", description: "git", blob: "d".repeat(40) };
      await db.transaction((tx) => mirror.apply(tx, "acme", "a", { upserts: [human, skill], deletes: [] }, COMMIT, 1));
      const rows = await mirror.files("acme", "a");
      expect(rows.map(({ updatedAt: _, ...rest }) => rest)).toEqual([
        { ...skill, commit: COMMIT, generation: 1 },
        { ...human, commit: COMMIT, generation: 1 },
      ]);
      await expect(
        db.transaction(async (tx) => {
          await mirror.apply(tx, "acme", "a", { upserts: [file("system/x.md", "x")], deletes: ["system/human.md"] }, COMMIT, 2);
          throw new Error("the commit lost its race");
        }),
      ).rejects.toThrow("race");
      expect((await mirror.files("acme", "a")).length).toBe(2);
      await db.transaction((tx) => mirror.apply(tx, "acme", "a", { upserts: [{ ...human, value: "Name: Grace\n", readOnly: false }], deletes: ["skills/git/SKILL.md"] }, COMMIT, 3));
      const [changed, ...rest] = await mirror.files("acme", "a");
      expect(rest).toEqual([]);
      expect([changed.value, changed.readOnly, changed.generation]).toEqual(["Name: Grace\n", false, 3]);
      await db.transaction((tx) => mirror.replace(tx, "acme", "a", [], undefined, 4));
      expect(await mirror.files("acme", "a")).toEqual([]);
    });

    test("search finds files with every word, ranks label and description matches first, highlights, and stays in the organisation", async () => {
      const db = await open();
      const mirror = new MemoryMirror(db);
      await db.transaction(async (tx) => {
        await mirror.apply(tx, "acme", "a", { upserts: [file("system/human.md", "The user likes hiking in the Alps and green tea."), file("system/notes.md", "Tea ceremony notes.")], deletes: [] }, COMMIT, 1);
        await mirror.apply(tx, "acme", "b", { upserts: [file("system/tea.md", "Green tea is the preferred drink.", { description: "drinks" })], deletes: [] }, COMMIT, 1);
        await mirror.apply(tx, "other", "a", { upserts: [file("system/human.md", "green tea too")], deletes: [] }, COMMIT, 1);
      });
      const hits = await mirror.search("acme", "green TEA", { limit: 10 });
      expect(hits.map((hit) => `${hit.repo}/${hit.path}`)).toEqual(["b/system/tea.md", "a/system/human.md"]);
      const human = hits[1];
      expect(human.label).toBe("human");
      const marked = human.highlights.map(([start, end]) => human.snippet.slice(start, end).toLowerCase());
      expect(marked).toEqual(["green", "tea"]);
      expect(human.snippet).toContain("hiking");
      expect((await mirror.search("acme", "tea", { limit: 10, repos: ["a"] })).map((hit) => hit.path).sort()).toEqual(["system/human.md", "system/notes.md"]);
      expect(await mirror.search("acme", "tea", { limit: 1 })).toHaveLength(1);
      expect(await mirror.search("acme", "\"*) OR (", { limit: 10 })).toEqual([]);
      expect(await mirror.search("acme", "NEAR(tea", { limit: 10, repos: [] })).toEqual([]);
      expect(await mirror.search("nobody", "tea", { limit: 10 })).toEqual([]);
    });
  });
}
