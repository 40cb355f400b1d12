import { describe, expect, test } from "bun:test";
import { BLOCK_RULES, checkChanges, refuses, type CheckInput, type MemoryPolicy, type Problem } from "../../src/blocks/index.ts";
import { CountingReader, treesOf, v1, v2, type FileSpec, type Files } from "./support.ts";

interface RuleCase {
  base?: Files;
  change: Record<string, FileSpec | null>;
  policy?: MemoryPolicy;
  options?: Partial<CheckInput>;
}

function check({ base = {}, change, policy = "memfs", options = {} }: RuleCase): Problem[] {
  const { objects, oldTree, newTree } = treesOf(base, change);
  return checkChanges({ objects, oldTree: Object.keys(base).length > 0 ? oldTree : undefined, newTree, policy, ...options });
}

const codes = (ruleCase: RuleCase) => check(ruleCase).map(({ code }) => code);
const ROOT = { "MEMORY.md": "# Memory\n" };
const READ_ONLY = { "system/policy.md": v1("rules", "be kind\n", "read_only: true\n") };
const config = (value: object) => JSON.stringify({ version: 1, ...value });

/** For every rule: a change it refuses, and the same change done right. */
const RULE_CASES: Record<string, { refused: RuleCase; accepted: RuleCase }> = {
  "frontmatter.missing": { refused: { change: { "system/a.md": "v" } }, accepted: { change: { "system/a.md": v1("d", "v") } } },
  "frontmatter.unclosed": { refused: { change: { "system/a.md": "---\ndescription: d\n" } }, accepted: { change: { "system/a.md": "---\ndescription: d\n---" } } },
  "frontmatter.in-index": { refused: { change: { "MEMORY.md": "---\n---\n# M" } }, accepted: { change: { "MEMORY.md": "# M\n---\n" } } },
  "frontmatter.unknown-key": { refused: { change: { "system/a.md": v1("d", "v", "x: 1\n") } }, accepted: { change: { "system/a.md": v1("d", "v", "limit: 9\n") } } },
  "frontmatter.repeated-key": {
    refused: { base: ROOT, change: { "a.md": "---\nname: a\ndescription: b\ndescription: c\n---\n" } },
    accepted: { base: ROOT, change: { "a.md": v2("a", "c", "") } },
  },
  "frontmatter.required-key": { refused: { base: ROOT, change: { "a.md": "---\ndescription: b\n---\n" } }, accepted: { base: ROOT, change: { "a.md": v2("a", "b", "") } } },
  "frontmatter.empty-key": { refused: { base: ROOT, change: { "a.md": v2("a", '""', "") } }, accepted: { base: ROOT, change: { "a.md": v2("a", '" "', "") } } },
  "limit.exceeded": { refused: { change: { "system/a.md": v1("d", "six ch", "limit: 5\n") } }, accepted: { change: { "system/a.md": v1("d", "five!", "limit: 5\n") } } },
  "read-only.modified": {
    refused: { base: READ_ONLY, change: { "system/policy.md": v1("rules", "be rude\n", "read_only: true\n") } },
    accepted: { base: READ_ONLY, change: { "system/other.md": v1("rules", "be rude\n") } },
  },
  "read-only.set": { refused: { change: { "system/a.md": v1("d", "v", "read_only: true\n") } }, accepted: { change: { "system/a.md": v1("d", "v") } } },
  "read-only.changed": {
    refused: { base: { "system/a.md": v1("d", "v", "read_only: no\n") }, change: { "system/a.md": v1("d", "v", "read_only: yes\n") } },
    accepted: { base: { "system/a.md": v1("d", "v", "read_only: no\n") }, change: { "system/a.md": v1("d", "w", "read_only: no\n") } },
  },
  "read-only.removed": {
    refused: { base: { "system/a.md": v1("d", "v", "read_only: no\n") }, change: { "system/a.md": v1("d", "v") } },
    accepted: { base: { "system/a.md": v1("d", "v", "read_only: no\n") }, change: { "system/a.md": v1("d", "w", "read_only: no\n") } },
  },
  "read-only.deleted": {
    refused: { base: READ_ONLY, change: { "system/policy.md": null } },
    accepted: { base: { ...READ_ONLY, "system/a.md": v1("d", "v") }, change: { "system/a.md": null } },
  },
  "skills.flat": { refused: { change: { "skills/a.md": "x" } }, accepted: { change: { "skills/a/SKILL.md": "x" } } },
  "index.root-required": { refused: { base: { ...ROOT, "a.md": v2("a", "a", "") }, change: { "MEMORY.md": null } }, accepted: { base: ROOT, change: { "MEMORY.md": "# M2\n" } } },
  "index.missing": { refused: { base: ROOT, change: { "p/a.md": v2("a", "a", "") } }, accepted: { base: ROOT, change: { "p/a.md": v2("a", "a", ""), "p/MEMORY.md": "#" } } },
  "file.not-regular": {
    refused: { base: ROOT, change: { "a.md": { content: "MEMORY.md", mode: 0o120000 } } },
    accepted: { base: ROOT, change: { "a.md": { content: v2("a", "a", ""), mode: 0o100755 } } },
  },
  "depth.exceeded": {
    refused: { base: { ...ROOT, "a/MEMORY.md": "#", "a/b/MEMORY.md": "#", "a/b/c/MEMORY.md": "#" }, change: { "a/b/c/d.md": v2("d", "d", "") } },
    accepted: { base: { ...ROOT, "a/MEMORY.md": "#", "a/b/MEMORY.md": "#" }, change: { "a/b/c.md": v2("c", "c", "") } },
  },
  "characters.file": { refused: { base: ROOT, change: { "a.md": v2("a", "a", "x".repeat(20_000)) } }, accepted: { base: ROOT, change: { "a.md": v2("a", "a", "x".repeat(19_900)) } } },
  "characters.core": {
    refused: { base: { ...ROOT, "a.md": v2("a", "a", "x".repeat(19_000)), "b.md": v2("b", "b", "x".repeat(19_000)), "c.md": v2("c", "c", "x".repeat(19_000)) }, change: { "d.md": v2("d", "d", "x".repeat(9000)) } },
    accepted: { base: { ...ROOT, "a.md": v2("a", "a", "x".repeat(19_000)), "b.md": v2("b", "b", "x".repeat(19_000)), "c.md": v2("c", "c", "x".repeat(19_000)) }, change: { "d.md": v2("d", "d", "x".repeat(8000)) } },
  },
  "config.protected": { refused: { change: { ".memfs.config.json": config({}) } }, accepted: { change: { ".memfs.config.json": config({}) }, options: { isAdmin: true } } },
  "config.invalid": {
    refused: { change: { ".memfs.config.json": config({ maxDepth: "2" }) }, options: { isAdmin: true } },
    accepted: { change: { ".memfs.config.json": config({ maxDepth: 2 }) }, options: { isAdmin: true } },
  },
  "tokens.system-budget": {
    // 23 bytes of front matter: 96 bytes are 24 tokens, 97 are 25.
    refused: { change: { "system/a.md": v1("d", "x".repeat(74)) }, options: { systemTokenBudget: 25 } },
    accepted: { change: { "system/a.md": v1("d", "x".repeat(73)) }, options: { systemTokenBudget: 25 } },
  },
};

describe("every rule refuses what breaks it and accepts it done right", () => {
  test("the table of cases covers every rule, and codes are unique", () => {
    const ruleCodes = BLOCK_RULES.map((rule) => rule.code);
    expect(new Set(ruleCodes).size).toBe(ruleCodes.length);
    expect(Object.keys(RULE_CASES).sort()).toEqual([...ruleCodes].sort());
  });

  for (const [code, { refused, accepted }] of Object.entries(RULE_CASES)) {
    test(code, () => {
      expect(codes(refused)).toContain(code);
      expect(codes(accepted)).toEqual([]);
    });
  }
});

test("problems name the path and say why, all at once, in table order", () => {
  const problems = check({ change: { "system/a.md": "v", "system/b.md": v1("", "v", "x: 1\n"), "skills/c.md": "c" } });
  expect(problems).toEqual([
    { path: "system/a.md", code: "frontmatter.missing", message: "system/a.md: missing frontmatter (must start with ---)" },
    { path: "system/b.md", code: "frontmatter.unknown-key", message: "system/b.md: unknown frontmatter key 'x' (allowed: description read_only limit)" },
    { path: "system/b.md", code: "frontmatter.empty-key", message: "system/b.md: 'description' must not be empty" },
    { path: "skills/c.md", code: "skills.flat", message: "skills/c.md: invalid skill path (skills must be folders). Use skills/<name>/SKILL.md" },
  ]);
});

describe("admin keys", () => {
  test("may change read-only files and the config", () => {
    const admin = { isAdmin: true };
    expect(codes({ base: READ_ONLY, change: { "system/policy.md": v1("rules", "be rude\n", "read_only: true\n") }, options: admin })).toEqual([]);
    expect(codes({ base: READ_ONLY, change: { "system/policy.md": v1("rules", "be rude\n") }, options: admin })).toEqual([]);
    expect(codes({ base: READ_ONLY, change: { "system/policy.md": null }, options: admin })).toEqual([]);
    expect(codes({ change: { "system/new.md": v1("d", "v", "read_only: true\n") }, options: admin })).toEqual([]);
  });

  test("are held to every other rule", () => {
    expect(codes({ base: READ_ONLY, change: { "system/policy.md": "no front matter" }, options: { isAdmin: true } })).toEqual(["frontmatter.missing"]);
  });
});

describe("what a change is checked for", () => {
  test("only what the change touches: an old history's problems can be fixed forward", () => {
    const base = { ...ROOT, "bad.md": "no front matter", "p/x.md": v2("x", "x", "") };
    expect(codes({ base, change: { "good.md": v2("g", "g", "") } })).toEqual([]);
    expect(codes({ base, change: { "bad.md": v2("b", "b", "fixed") } })).toEqual([]);
    expect(codes({ base, change: { "bad.md": "still bad" } })).toEqual(["frontmatter.missing"]);
  });

  test("a new config re-checks every file, a deleted index the files below it", () => {
    const base = { ...ROOT, "a.md": v2("a", "a", "x".repeat(500)) };
    expect(codes({ base, change: { ".memfs.config.json": config({ maxFileCharacters: 100 }) }, options: { isAdmin: true } })).toEqual(["characters.file"]);
    const nested = { ...ROOT, "p/MEMORY.md": "#", "p/q/MEMORY.md": "#", "p/q/a.md": v2("a", "a", "") };
    expect(check({ base: nested, change: { "p/MEMORY.md": null } }).map(({ message }) => message)).toEqual([
      "p/q/MEMORY.md: missing required index p/MEMORY.md",
      "p/q/a.md: missing required index p/MEMORY.md",
    ]);
  });

  test("a first push is all new files", () => {
    expect(codes({ change: { "system/a.md": "v", "system/b.md": v1("d", "v") } })).toEqual(["frontmatter.missing"]);
  });

  test("a change to 1 block of 200 reads only the trees on its path and that block", () => {
    const base: Files = { ...ROOT };
    for (let i = 0; i < 200; i++) base[`b${i}.md`] = v2(`b${i}`, "d", `value ${i}`);
    const { objects, oldTree, newTree } = treesOf(base, { "b7.md": v2("b7", "d", "new value") });
    const reader = new CountingReader(objects);
    expect(checkChanges({ objects: reader, oldTree, newTree })).toEqual([]);
    // The two root trees (by the diff and by the rules), the changed blob, and every root file
    // for the core-memory total.
    expect(reader.reads).toBeLessThanOrEqual(2 * 2 + 1 + 201);
    const nested: Files = { ...ROOT, "p/MEMORY.md": "#" };
    for (let i = 0; i < 200; i++) nested[`p/b${i}.md`] = v2(`b${i}`, "d", `value ${i}`);
    const trees = treesOf(nested, { "p/b7.md": v2("b7", "d", "new value") });
    const nestedReader = new CountingReader(trees.objects);
    expect(checkChanges({ ...trees, objects: nestedReader })).toEqual([]);
    // Two trees per side, twice, and the changed blob.
    expect(nestedReader.reads).toBeLessThanOrEqual(2 * 2 * 2 + 1);
  });
});

test("submodules named like memory files are refused where the hook reads memory, and never read", () => {
  const submodule = { content: "5".repeat(40), mode: 0o160000 };
  expect(codes({ change: { "system/sub.md": submodule }, options: { systemTokenBudget: 10 } })).toEqual(["file.not-regular"]);
  expect(codes({ base: ROOT, change: { "sub.md": submodule, ".memfs.config.json": config({}) }, options: { isAdmin: true } })).toEqual(["file.not-regular"]);
  expect(codes({ change: { "notes/sub.md": submodule, "skills/x.md": submodule } })).toEqual(["skills.flat"]);
  expect(codes({ base: { "system/sub.md": submodule, "system/a.md": v1("a", "a") }, change: { "system/sub.md": null }, options: { systemTokenBudget: 10 } })).toEqual([]);
});

describe("policies and layouts", () => {
  test("shared-memory: v2 front matter over every .md, no indexes, no core total, no default limits", () => {
    expect(codes({ policy: "shared-memory", change: { "a/b/c/d.md": v2("d", "d", "x".repeat(70_000)) } })).toEqual([]);
    expect(codes({ policy: "shared-memory", change: { "a/b.md": "---\ndescription: d\nread_only: true\n---\n" } })).toEqual([
      "frontmatter.unknown-key",
      "frontmatter.required-key",
    ]);
  });

  test("seed repositories, deleted branches and --block-policy off have no problems", () => {
    expect(codes({ change: { "system/a.md": "v" }, options: { blockLayout: "seed" } })).toEqual([]);
    expect(codes({ change: { "system/a.md": "v" }, options: { blockPolicy: "off" } as Partial<CheckInput> })).toEqual([]);
    const { objects, oldTree } = treesOf({ "system/a.md": "v" }, {});
    expect(checkChanges({ objects, oldTree, newTree: undefined })).toEqual([]);
  });

  test("--block-policy: strict refuses, warn and off accept", () => {
    const problems = check({ change: { "system/a.md": "v" } });
    expect(refuses("strict", problems)).toBe(true);
    expect(refuses("warn", problems)).toBe(false);
    expect(refuses("off", problems)).toBe(false);
    expect(refuses("strict", [])).toBe(false);
  });

  test("the token budget counts ceil(UTF-8 bytes / 4) per system/ file", () => {
    const base = { "system/a.md": "é" }; // 2 bytes: 1 token
    // 23 + 2 bytes: 7 tokens, 8 in all; 23 + 10 bytes: 9 tokens, 10 in all, not fewer than 10.
    expect(codes({ base, change: { "system/b.md": v1("d", "12") }, options: { systemTokenBudget: 10 } })).toEqual([]);
    expect(codes({ base, change: { "system/b.md": v1("d", "1234567890") }, options: { systemTokenBudget: 10 } })).toEqual(["tokens.system-budget"]);
    expect(codes({ base: { ...base, ...ROOT }, change: { "b.md": v2("b", "b", "x".repeat(100)) }, options: { systemTokenBudget: 1 } })).toEqual([]);
  });
});
