/** Random texts made of the pieces front matter is made of: the parser never throws and every write reads back. */
import { expect, test } from "bun:test";
import {
  decodeText,
  fileValue,
  frontMatterFields,
  frontMatterKeys,
  renderFile,
  replaceValue,
  splitFrontMatter,
  updateFile,
} from "../../src/blocks/front-matter.ts";
import { seededRandom } from "../support/random.ts";

const PIECES = ["---", "\n", "\r\n", "\r", " ", "\t", ":", "description", "name", "read_only", "limit", "true", "\"", "'", "#", "- ", "|", ">", "é", "👋", "\uFEFF", "\u2028", "\\", "a", "{", "[", "null", "0"];
const ITERATIONS = 3000;
const random = seededRandom(7);
const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
const randomText = (pieces: number) => Array.from({ length: Math.floor(random() * pieces) }, () => pick(PIECES)).join("");
const encoder = new TextEncoder();

test("splitting, reading and replacing random texts never throws and keeps the front matter", () => {
  for (let i = 0; i < ITERATIONS; i++) {
    const text = (random() < 0.5 ? "---\n" : "") + randomText(40);
    const split = splitFrontMatter(text);
    if (split.kind === "present") {
      const head = ["---", ...split.lines, "---"].join("\n");
      expect(text).toBe(text.length > head.length ? `${head}\n${split.body}` : head);
      frontMatterKeys(split.lines, "v1");
      frontMatterKeys(split.lines, "v2");
      frontMatterFields(split.lines, random() < 0.5 ? "v1" : "v2");
    }
    const value = randomText(10);
    const replaced = decodeText(replaceValue(encoder.encode(text), value));
    if (split.kind === "present") {
      expect(fileValue(replaced)).toBe(value);
      expect(replaced.startsWith(["---", ...split.lines, "---"].join("\n"))).toBe(true);
    } else {
      expect(replaced).toBe(value);
    }
    const updated = decodeText(updateFile(encoder.encode(text), { description: randomText(8) }, value));
    expect(fileValue(updated)).toBe(value);
  }
});

test("what renderFile writes, the hook reads as the same keys and YAML as the same values", () => {
  for (let i = 0; i < ITERATIONS; i++) {
    const fields = { name: randomText(12), description: randomText(12) };
    const value = randomText(10);
    const split = splitFrontMatter(decodeText(renderFile(fields, value)));
    if (split.kind !== "present") throw new Error(`no front matter for ${JSON.stringify(fields)}`);
    expect(split.body).toBe(value);
    expect(frontMatterKeys(split.lines, "v2").map(({ key }) => key)).toEqual(["name", "description"]);
    expect(frontMatterFields(split.lines, "v2")).toEqual(fields);
  }
});
