import { expect, test } from "bun:test";
import { BlockInputError } from "../../src/blocks/errors.ts";
import { blockPath, checkLabel, detectLayout, kindOf, labelOf } from "../../src/blocks/layout.ts";
import { globToRegExp, parseMemfsConfig } from "../../src/blocks/memfs-config.ts";

const tree = (...paths: string[]) => (path: string) => paths.includes(path);

test("the layout: v2 with a root MEMORY.md, v1 without, seed when configured", () => {
  expect(detectLayout(true)).toBe("v2");
  expect(detectLayout(false)).toBe("v1");
  expect(detectLayout(true, "seed")).toBe("seed");
});

test("v1 labels are paths under system/ without .md", () => {
  const none = tree();
  expect(labelOf("v1", "system/human.md", none)).toBe("human");
  expect(labelOf("v1", "system/project/tools.md", none)).toBe("project/tools");
  expect(labelOf("v1", "reference/api.md", none)).toBeUndefined();
  expect(labelOf("v1", "human.md", none)).toBeUndefined();
  expect(labelOf("v1", "system/notes.txt", none)).toBeUndefined();
});

test("v2 labels: root files, and nested files whose every ancestor has its own index", () => {
  const has = tree("MEMORY.md", "project/MEMORY.md", "a/b/MEMORY.md");
  expect(labelOf("v2", "human.md", has)).toBe("human");
  expect(labelOf("v2", "MEMORY.md", has)).toBe("MEMORY");
  expect(labelOf("v2", "project/tools.md", has)).toBe("project/tools");
  expect(labelOf("v2", "project/MEMORY.md", has)).toBe("project/MEMORY");
  expect(labelOf("v2", "a/b/c.md", has)).toBeUndefined();
  expect(labelOf("v2", "other/x.md", has)).toBeUndefined();
  expect(labelOf("v2", "skills/search/SKILL.md", has)).toBeUndefined();
});

test("seed labels: blocks/NAME.md", () => {
  expect(labelOf("seed", "blocks/human.md", tree())).toBe("human");
  expect(labelOf("seed", "blocks/a/b.md", tree())).toBeUndefined();
  expect(labelOf("seed", "system/human.md", tree())).toBeUndefined();
});

test("kinds: blocks, skills (skills/NAME/SKILL.md) and other files", () => {
  expect(kindOf("human", "system/human.md")).toBe("block");
  expect(kindOf(undefined, "skills/search/SKILL.md")).toBe("skill");
  expect(kindOf(undefined, "skills/search/notes.md")).toBe("file");
  expect(kindOf(undefined, "skills/SKILL.md")).toBe("file");
  expect(kindOf(undefined, "notes.md")).toBe("file");
});

test("the file an API write of a label goes to", () => {
  expect(blockPath("v1", "human")).toBe("system/human.md");
  expect(blockPath("v1", "project/tools")).toBe("system/project/tools.md");
  expect(blockPath("v2", "project/tools")).toBe("project/tools.md");
  expect(blockPath("seed", "human")).toBe("blocks/human.md");
});

test("labels that cannot name a file are refused with a typed error", () => {
  for (const label of ["", "/human", "human/", "a//b", "..", "a/../b", "./a", "a/.git/b", "a\\b", "a\u0000b", "line\nbreak", "x".repeat(253)]) {
    expect(() => checkLabel("v2", label)).toThrow(BlockInputError);
  }
  expect(() => blockPath("seed", "a/b")).toThrow(BlockInputError);
  expect(() => blockPath("v2", "skills/git/SKILL")).toThrow(BlockInputError);
  expect(blockPath("v1", "skills/git/SKILL")).toBe("system/skills/git/SKILL.md");
  for (const label of ["human", "project/tools", "é/ü", "a.b", ".hidden", "x".repeat(252)]) checkLabel("v2", label);
});

test(".memfs.config.json is read as Letta Code reads it", () => {
  expect(parseMemfsConfig('{"version":1,"maxDepth":0,"fileCharacterLimits":[{"pattern":"a/**","maxCharacters":null}]}')).toEqual({
    config: { version: 1, maxDepth: 0, fileCharacterLimits: [{ pattern: "a/**", maxCharacters: null }] },
  });
  expect(parseMemfsConfig("{")).toEqual({ problems: [expect.stringContaining("invalid JSON")] });
  expect(parseMemfsConfig("[]")).toEqual({ problems: ["expected a JSON object"] });
  expect(
    parseMemfsConfig(
      JSON.stringify({
        version: 2,
        maxDepth: 1.5,
        maxFileCharacters: 0,
        maxCoreMemoryCharacters: "10",
        extra: 1,
        fileCharacterLimits: [null, { pattern: "/abs" }, { pattern: "a**/b", maxCharacters: 1, x: 1 }, { pattern: "../x", maxCharacters: 1 }],
      }),
    ),
  ).toEqual({
    problems: [
      "unknown field 'extra'",
      "version must be 1",
      "maxDepth must be a non-negative integer",
      "maxFileCharacters must be a positive integer",
      "maxCoreMemoryCharacters must be a positive integer",
      "fileCharacterLimits[0] must be an object",
      "fileCharacterLimits[1]: pattern must be a non-empty repo-relative glob using '/'",
      "fileCharacterLimits[1]: maxCharacters must be a positive integer or null",
      "fileCharacterLimits[2]: unknown field 'x'",
      "fileCharacterLimits[2]: '**' must be a complete path segment",
      "fileCharacterLimits[3]: pattern must be a non-empty repo-relative glob using '/'",
    ],
  });
  expect(parseMemfsConfig('{"version":1,"fileCharacterLimits":{}}')).toEqual({ problems: ["fileCharacterLimits must be an array"] });
});

test("fileCharacterLimits globs", () => {
  const matches = (pattern: string, path: string) => globToRegExp(pattern).test(path);
  expect(matches("*.md", "a.md")).toBe(true);
  expect(matches("*.md", "d/a.md")).toBe(false);
  expect(matches("**/*.md", "a.md")).toBe(true);
  expect(matches("**/*.md", "d/e/a.md")).toBe(true);
  expect(matches("system/**", "system/a/b.md")).toBe(true);
  expect(matches("log?.md", "log1.md")).toBe(true);
  expect(matches("log?.md", "log10.md")).toBe(false);
  expect(matches("a+(b).md", "a+(b).md")).toBe(true);
  expect(matches("a.md", "aXmd")).toBe(false);
});
