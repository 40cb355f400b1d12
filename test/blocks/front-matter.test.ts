import { describe, expect, test } from "bun:test";
import {
  countCharacters,
  decodeText,
  fileValue,
  frontMatterFields,
  frontMatterKeys,
  hookKeyValue,
  renderFile,
  replaceValue,
  splitFrontMatter,
  updateFile,
} from "../../src/blocks/front-matter.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

describe("splitFrontMatter", () => {
  test("a first line exactly ---, then lines, then a line exactly ---; the rest is the value", () => {
    expect(splitFrontMatter("---\ndescription: x\n---\nline 1\nline 2\n")).toEqual({ kind: "present", lines: ["description: x"], body: "line 1\nline 2\n" });
    expect(splitFrontMatter("---\n---\n")).toEqual({ kind: "present", lines: [], body: "" });
    expect(splitFrontMatter("---\na: 1\n---")).toEqual({ kind: "present", lines: ["a: 1"], body: "" });
    expect(splitFrontMatter("---\na: 1\n---\nbody\n---\nmore")).toEqual({ kind: "present", lines: ["a: 1"], body: "body\n---\nmore" });
  });

  test("no front matter: the whole text is the value", () => {
    for (const input of ["", "text", " ---\na\n---\n", "----\na\n---\n", "---\r\na: 1\r\n---\r\nv", "\uFEFF---\na: 1\n---\nv"]) {
      expect(splitFrontMatter(input)).toEqual({ kind: "none" });
      expect(fileValue(input)).toBe(input);
    }
  });

  test("an opening line without a closing one", () => {
    expect(splitFrontMatter("---\na: 1\n")).toEqual({ kind: "unclosed" });
    expect(splitFrontMatter("---\na: 1\n--- \n")).toEqual({ kind: "unclosed" });
    expect(splitFrontMatter("---")).toEqual({ kind: "unclosed" });
  });
});

describe("the hook's reading of key lines", () => {
  test("v1 skips indented lines and drops spaces in keys; v2 reads every non-empty line", () => {
    const lines = ["description:  a b  ", "  continued: x", "read _only: true", "", "\tx: y", "novalue"];
    expect(frontMatterKeys(lines, "v1")).toEqual([
      { key: "description", value: "a b" },
      { key: "read_only", value: "true" },
      { key: "novalue", value: "novalue" },
    ]);
    expect(frontMatterKeys(lines, "v2")).toEqual([
      { key: "description", value: "a b" },
      { key: "continued", value: "x" },
      { key: "read _only", value: "true" },
      { key: "\tx", value: "y" },
      { key: "novalue", value: "novalue" },
    ]);
  });

  test("hookKeyValue: values of `key:` lines up to the first later --- line, spaces trimmed", () => {
    expect(hookKeyValue("---\nread_only: true \n---\nv", "read_only")).toBe("true");
    expect(hookKeyValue("---\nread_only: true\nread_only: no\n---\n", "read_only")).toBe("true\nno");
    expect(hookKeyValue("---\nread_only:\ttrue\n---\n", "read_only")).toBe("\ttrue");
    expect(hookKeyValue("---\nread_only: true\n", "read_only")).toBe("");
    expect(hookKeyValue(undefined, "read_only")).toBe("");
    // Like the hook, it does not look at the first line.
    expect(hookKeyValue("title\nread_only: true\n---\n", "read_only")).toBe("true");
  });
});

describe("frontMatterFields", () => {
  test("reads YAML scalars: quotes, numbers, booleans", () => {
    expect(frontMatterFields(['name: "A: b"', "description: 'it''s'", "limit: 500", "read_only: true", "x: ~"], "v1")).toEqual({
      name: "A: b",
      description: "it's",
      limit: 500,
      read_only: true,
      x: null,
    });
  });

  test("repeated keys keep the last value; YAML errors fall back to the hook's reading", () => {
    expect(frontMatterFields(["description: a", "description: b"], "v1")).toEqual({ description: "b" });
    expect(frontMatterFields(["description: a: b"], "v1")).toEqual({ description: "a: b" });
    expect(frontMatterFields([], "v2")).toEqual({});
  });

  test("non-scalar values are left out", () => {
    expect(frontMatterFields(["description: x", "tags:", "  - a"], "v1")).toEqual({ description: "x" });
  });
});

describe("writing", () => {
  test("renderFile writes one flat line per key, LF only, values the hook reads back", () => {
    const file = text(renderFile({ name: "Human", description: "multi\nline: with # and 'quotes'", read_only: undefined }, "value\n"));
    expect(file).toBe("---\nname: Human\ndescription: \"multi\\nline: with # and 'quotes'\"\n---\nvalue\n");
    const split = splitFrontMatter(file);
    if (split.kind !== "present") throw new Error("no front matter");
    expect(frontMatterKeys(split.lines, "v2").map(({ key }) => key)).toEqual(["name", "description"]);
    expect(frontMatterFields(split.lines, "v2")).toEqual({ name: "Human", description: "multi\nline: with # and 'quotes'" });
    expect(text(renderFile({ description: "x".repeat(300) }, ""))).toBe(`---\ndescription: ${"x".repeat(300)}\n---\n`);
    expect(text(renderFile({}, "v"))).toBe("---\n---\nv");
  });

  test("replaceValue keeps the front matter byte for byte", () => {
    const original = bytes("---\r\ndescription:   odd  spacing # comment\n\n---\nold value\n");
    // "---\r" is not an opening line: the whole file is the value.
    expect(text(replaceValue(original, "new"))).toBe("new");
    const withFrontMatter = bytes("---\ndescription:   odd  spacing # comment\n\n---\nold value\n");
    expect(text(replaceValue(withFrontMatter, "new\n"))).toBe("---\ndescription:   odd  spacing # comment\n\n---\nnew\n");
    expect(text(replaceValue(bytes("---\na: 1\n---"), "v"))).toBe("---\na: 1\n---\nv");
    expect(text(replaceValue(bytes("---\na: 1\n"), "v"))).toBe("v");
  });

  test("replaceValue keeps bytes that are not UTF-8", () => {
    const original = Uint8Array.from([...bytes("---\ndescription: "), 0xff, 0xfe, ...bytes("\n---\nold")]);
    expect([...replaceValue(original, "new")]).toEqual([...original.subarray(0, original.length - 3), ...bytes("new")]);
  });

  test("updateFile changes only the keys that change, keeping order and comments", () => {
    const original = bytes("---\n# who\ndescription: the human\nlimit: 500\n---\nold");
    expect(text(updateFile(original, { description: "the human", limit: 500 }, "new"))).toBe("---\n# who\ndescription: the human\nlimit: 500\n---\nnew");
    expect(text(updateFile(original, { description: "someone", limit: undefined }, "new"))).toBe("---\n# who\ndescription: someone\n---\nnew");
    expect(text(updateFile(original, { read_only: true }, "v"))).toBe("---\n# who\ndescription: the human\nlimit: 500\nread_only: true\n---\nv");
    expect(text(updateFile(bytes("no front matter"), { description: "d" }, "v"))).toBe("---\ndescription: d\n---\nv");
    expect(text(updateFile(bytes("---\ndescription: a: b\n---\nv"), { description: "c" }, "v"))).toBe("---\ndescription: c\n---\nv");
  });
});

test("characters are code points of the UTF-8 text; a byte-order mark is one", () => {
  expect(countCharacters("héllo 👋")).toBe(7);
  expect(countCharacters(decodeText(bytes("\uFEFFa")))).toBe(2);
  expect(countCharacters(decodeText(Uint8Array.from([0x61, 0xff, 0x62])))).toBe(3);
});
