/**
 * Front matter of memory files: a first line exactly `---`, YAML, then a line exactly `---`; the
 * rest is the value. Lines are split on "\n" alone, as Letta Code's pre-commit hook splits them
 * (src/memory-frontmatter.ts, validateMemoryFileFrontmatter), so a CRLF file's "---\r" opens
 * nothing: the hook refuses such files, and stategit reads them as having no front matter.
 *
 * Two readings of the same lines: `frontMatterKeys` is the hook's line-by-line one, which the
 * rules use so that stategit accepts and refuses what the hook does; `frontMatterFields` is the
 * YAML one (the `yaml` package), which gives the values the mirror and the API show.
 */
import { Document, isMap, isScalar, parseDocument, Scalar } from "yaml";

/** What a memory file's text holds: the front matter's lines and the value after them. */
export type FrontMatter =
  | { kind: "none" }
  /** An opening `---` line with no closing one. */
  | { kind: "unclosed" }
  | {
      kind: "present";
      /** The lines between the two `---` lines. */
      lines: string[];
      /** Everything after the closing line's "\n" (empty when the file ends with that line). */
      body: string;
    };

const FENCE = "---";
const NEWLINE = 0x0a;
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * A file's bytes as the hook sees them: UTF-8, a byte-order mark kept (the hook's `git show`
 * output keeps it), invalid sequences as U+FFFD.
 */
export function decodeText(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** Characters as Letta counts them: code points of the decoded text (JavaScript's for..of). */
export function countCharacters(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

export function splitFrontMatter(text: string): FrontMatter {
  const lines = text.split("\n");
  if (lines[0] !== FENCE) return { kind: "none" };
  const closing = lines.indexOf(FENCE, 1);
  if (closing < 0) return { kind: "unclosed" };
  return { kind: "present", lines: lines.slice(1, closing), body: lines.slice(closing + 1).join("\n") };
}

/** The value a file holds: the body after its front matter, or the whole text without one. */
export function fileValue(text: string): string {
  const frontMatter = splitFrontMatter(text);
  return frontMatter.kind === "present" ? frontMatter.body : text;
}

/** How the hook reads a key line: v1 ("legacy") and v2 ("memfs-v2") differ in two ways. */
export type KeyStyle = "v1" | "v2";

export interface FrontMatterKey {
  key: string;
  value: string;
}

/** Trims spaces only, not tabs: the hook's `.replace(/^ +| +$/g, "")`. */
function trimSpaces(text: string): string {
  return text.replace(/^ +| +$/g, "");
}

/**
 * Every key line as the hook reads it: empty lines are skipped; v1 also skips indented lines
 * (YAML continuations), v2 reads them as keys (so v2 front matter is flat `key: value` lines);
 * the key is the text before the first ":" (v1 drops every space in it, v2 trims it), or the whole
 * line when there is no ":"; the value is the text after it, spaces trimmed.
 */
export function frontMatterKeys(lines: readonly string[], style: KeyStyle): FrontMatterKey[] {
  const keys: FrontMatterKey[] = [];
  for (const line of lines) {
    if (!line) continue;
    if (style === "v1" && /^[ \t]/.test(line)) continue;
    const separator = line.indexOf(":");
    const rawKey = separator < 0 ? line : line.slice(0, separator);
    const key = style === "v2" ? trimSpaces(rawKey) : rawKey.replaceAll(" ", "");
    keys.push({ key, value: trimSpaces(separator < 0 ? line : line.slice(separator + 1)) });
  }
  return keys;
}

/**
 * The hook's `legacyValue`: the values of the lines starting with `key:` between the first line
 * and the first later `---` line, joined by "\n" ("" when none). It does not check that the first
 * line is `---`, and read-only protection depends on it returning exactly "true".
 */
export function hookKeyValue(text: string | undefined, key: string): string {
  const lines = text?.split("\n") ?? [];
  const end = lines.indexOf(FENCE, 1);
  if (end < 0) return "";
  return lines
    .slice(1, end)
    .filter((line) => line.startsWith(`${key}:`))
    .map((line) => trimSpaces(line.slice(key.length + 1)))
    .join("\n");
}

/** Front matter values, as YAML reads them (scalars only; anything else is left out). */
export type FrontMatterFields = Record<string, string | number | boolean | null>;

/**
 * The front matter's values read as YAML. Repeated keys keep the last value (v1 allows them,
 * as the hook does). Front matter the hook accepts but YAML cannot read ("description: a: b")
 * falls back to the hook's reading, so every accepted file has fields.
 */
export function frontMatterFields(lines: readonly string[], style: KeyStyle): FrontMatterFields {
  const document = parseDocument(lines.join("\n"), { uniqueKeys: false, prettyErrors: false });
  const fields: FrontMatterFields = {};
  if (document.errors.length > 0 || !(isMap(document.contents) || document.contents === null)) {
    for (const { key, value } of frontMatterKeys(lines, style)) fields[key] = value;
    return fields;
  }
  for (const pair of isMap(document.contents) ? document.contents.items : []) {
    if (!isScalar(pair.key) || !isScalar(pair.value)) continue;
    const value = pair.value.value;
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean" || value === null) {
      fields[String(pair.key.value)] = value;
    }
  }
  return fields;
}

/** Values to write into front matter; undefined leaves a key out. */
export type FieldUpdate = Record<string, string | number | boolean | undefined>;

/** YAML that the hook reads back as the same flat key lines: no folding, no block scalars. */
const YAML_OUTPUT = { lineWidth: 0, blockQuote: false, doubleQuotedAsJSON: true } as const;

/**
 * Line breaks and invisible characters could make YAML fold a quoted value over several lines,
 * which the hook would read as more keys: such strings are written double-quoted with escapes.
 */
const NEEDS_ESCAPES = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;

function yamlValue(value: string | number | boolean): Scalar {
  const scalar = new Scalar(value);
  if (typeof value === "string" && NEEDS_ESCAPES.test(value)) scalar.type = Scalar.QUOTE_DOUBLE;
  return scalar;
}

function fieldsYaml(fields: FieldUpdate): string {
  const document = new Document({});
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) document.set(key, yamlValue(value));
  return isMap(document.contents) && document.contents.items.length > 0 ? document.toString(YAML_OUTPUT) : "";
}

/** A new file: front matter with `fields` in their order, then the value (LF line ends). */
export function renderFile(fields: FieldUpdate, value: string): Uint8Array {
  return encoder.encode(`${FENCE}\n${fieldsYaml(fields)}${FENCE}\n${value}`);
}

/** The byte offset just past the closing `---` line, or -1 when the file has no front matter. */
function frontMatterEnd(bytes: Uint8Array): number {
  let lineStart = 0;
  let lineIndex = 0;
  while (lineStart <= bytes.length) {
    const newline = bytes.indexOf(NEWLINE, lineStart);
    const lineEnd = newline < 0 ? bytes.length : newline;
    const isFence = lineEnd - lineStart === 3 && bytes[lineStart] === 0x2d && bytes[lineStart + 1] === 0x2d && bytes[lineStart + 2] === 0x2d;
    if (lineIndex === 0 && !isFence) return -1;
    if (lineIndex > 0 && isFence) return newline < 0 ? bytes.length : newline + 1;
    if (newline < 0) return -1;
    lineStart = newline + 1;
    lineIndex++;
  }
  return -1;
}

/**
 * The file with its value replaced and its front matter kept byte for byte. A file without
 * front matter is all value, so it becomes `value`.
 */
export function replaceValue(bytes: Uint8Array, value: string): Uint8Array {
  const end = frontMatterEnd(bytes);
  if (end < 0) return encoder.encode(value);
  const head = end === bytes.length && bytes[end - 1] !== NEWLINE ? [...bytes, NEWLINE] : bytes.subarray(0, end);
  const tail = encoder.encode(value);
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

/**
 * The file with front matter keys set to `update` (undefined removes a key) and its value
 * replaced. Keys keep their order and comments (YAML's document model); when no key changes
 * the front matter stays byte for byte. A file without front matter gets one.
 */
export function updateFile(bytes: Uint8Array, update: FieldUpdate, value: string): Uint8Array {
  const frontMatter = splitFrontMatter(decodeText(bytes));
  if (frontMatter.kind !== "present") return renderFile(update, value);
  const document = parseDocument(frontMatter.lines.join("\n"), { uniqueKeys: false, prettyErrors: false });
  if (document.errors.length > 0 || !(isMap(document.contents) || document.contents === null)) return renderFile(update, value);
  const current = frontMatterFields(frontMatter.lines, "v1");
  const changed = Object.entries(update).filter(([key, next]) => (next === undefined ? key in current : current[key] !== next));
  if (changed.length === 0) return replaceValue(bytes, value);
  for (const [key, next] of changed) {
    if (next === undefined) document.delete(key);
    else document.set(key, yamlValue(next));
  }
  const yaml = isMap(document.contents) && document.contents.items.length > 0 ? document.toString(YAML_OUTPUT) : "";
  return encoder.encode(`${FENCE}\n${yaml}${FENCE}\n${value}`);
}
