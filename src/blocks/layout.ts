/**
 * Where memory lives in a repository (DESIGN.md, "Blocks"): which files are blocks, their labels,
 * and the file an API write of a label goes to.
 * - v1 (Letta memfs): blocks are `system/**\/*.md`, label = the path under `system/` without `.md`.
 * - v2 (Letta memfs, when a root `MEMORY.md` exists): blocks are root `*.md` files and nested ones
 *   whose every ancestor directory has its own `MEMORY.md`; `MEMORY.md` files are indexes.
 * - seed (the previous service's, `--block-layout seed`): `blocks/NAME.md`, the whole file is the value.
 * In every layout `skills/NAME/SKILL.md` is the skill NAME and other `*.md` files are memory files
 * without a label.
 */
import { BlockInputError } from "./errors.ts";

export type MemoryLayout = "v1" | "v2" | "seed";
/**
 * Letta's two policies: `memfs`, an agent's own memory (the hook's "root-marker" policy, which
 * Letta Code installs in every memory clone: v1 rules, or v2 once a root MEMORY.md exists), and
 * `shared-memory`, a shared repository (v2 rules over every `.md`, so always read as v2).
 */
export type MemoryPolicy = "memfs" | "shared-memory";
/** The server's `--block-layout`: Letta's memfs (v1 or v2, read from the tree) or seed. */
export type BlockLayout = "letta" | "seed";
export type MemoryKind = "block" | "skill" | "file";

export const INDEX_FILE = "MEMORY.md";
const MARKDOWN = ".md";
const V1_BLOCK_DIRECTORY = "system/";
const SEED_BLOCK_DIRECTORY = "blocks/";
const SKILL_PATH = /^skills\/([^/]+)\/SKILL\.md$/;

/** The layout of a tree whose root does or does not hold `MEMORY.md`, in a repository of `policy`. */
export function detectLayout(hasRootIndex: boolean, blockLayout: BlockLayout = "letta", policy: MemoryPolicy = "memfs"): MemoryLayout {
  if (blockLayout === "seed") return "seed";
  return hasRootIndex || policy === "shared-memory" ? "v2" : "v1";
}

export function isMarkdown(path: string): boolean {
  return path.endsWith(MARKDOWN);
}

export function isIndexPath(path: string): boolean {
  return path === INDEX_FILE || path.endsWith(`/${INDEX_FILE}`);
}

/**
 * The index of the outermost directory above `path` that lacks one ("a/b/c.md" looks for
 * "a/MEMORY.md", then "a/b/MEMORY.md"), or undefined when every ancestor has its index. Stops at
 * the first missing one, so a deep path costs no more than its depth.
 */
export function firstMissingIndex(path: string, hasFile: (path: string) => boolean): string | undefined {
  for (let slash = path.indexOf("/"); slash >= 0; slash = path.indexOf("/", slash + 1)) {
    const index = `${path.slice(0, slash)}/${INDEX_FILE}`;
    if (!hasFile(index)) return index;
  }
  return undefined;
}

/** True when a file at `path` is readable as a v2 block: every ancestor has its own index. */
export function isIndexed(path: string, hasFile: (path: string) => boolean): boolean {
  return firstMissingIndex(path, hasFile) === undefined;
}

/**
 * The block label of the file at `path`, or undefined when it is not a block. `hasFile` answers
 * whether the tree holds a file (v2 needs the indexes of the ancestors).
 */
export function labelOf(layout: MemoryLayout, path: string, hasFile: (path: string) => boolean): string | undefined {
  if (!isMarkdown(path)) return undefined;
  const withoutExtension = path.slice(0, -MARKDOWN.length);
  switch (layout) {
    case "v1":
      return path.startsWith(V1_BLOCK_DIRECTORY) ? withoutExtension.slice(V1_BLOCK_DIRECTORY.length) : undefined;
    case "v2":
      return !path.startsWith("skills/") && isIndexed(path, hasFile) ? withoutExtension : undefined;
    case "seed":
      return path.startsWith(SEED_BLOCK_DIRECTORY) && !path.slice(SEED_BLOCK_DIRECTORY.length).includes("/")
        ? withoutExtension.slice(SEED_BLOCK_DIRECTORY.length)
        : undefined;
  }
}

/** The skill a path is the definition of (`skills/NAME/SKILL.md`), if any. */
export function skillName(path: string): string | undefined {
  return SKILL_PATH.exec(path)?.[1];
}

export function kindOf(label: string | undefined, path: string): MemoryKind {
  if (label !== undefined) return "block";
  return skillName(path) === undefined ? "file" : "skill";
}

/**
 * Each label segment becomes a file or directory name in every clone: 255 bytes is the longest
 * name common file systems (ext4, APFS, NTFS) accept.
 */
const MAX_SEGMENT_BYTES = 255 - MARKDOWN.length;
const encoder = new TextEncoder();

/** Throws BlockInputError unless `label` can name a file in `layout`. */
export function checkLabel(layout: MemoryLayout, label: string): void {
  const refuse = (reason: string): never => {
    throw new BlockInputError("label.invalid", `invalid label ${JSON.stringify(label)}: ${reason}`);
  };
  if (label.length === 0) refuse("it is empty");
  if (/[\u0000-\u001f\u007f\\]/.test(label)) refuse("it contains a control character or a backslash");
  if (layout === "seed" && label.includes("/")) refuse("seed labels cannot contain \"/\"");
  if (layout === "v2" && label.startsWith("skills/")) refuse("files under skills/ are skills, not blocks");
  for (const segment of label.split("/")) {
    if (segment.length === 0) refuse("it has an empty path segment");
    if (segment === "." || segment === "..") refuse(`it has a "${segment}" segment`);
    if (segment.toLowerCase() === ".git") refuse("it has a \".git\" segment");
    if (encoder.encode(segment).length > MAX_SEGMENT_BYTES) refuse(`a segment is longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
}

/** The file an API write of `label` goes to (v1 `system/LABEL.md`, v2 `LABEL.md`, seed `blocks/LABEL.md`). */
export function blockPath(layout: MemoryLayout, label: string): string {
  checkLabel(layout, label);
  switch (layout) {
    case "v1":
      return `${V1_BLOCK_DIRECTORY}${label}${MARKDOWN}`;
    case "v2":
      return `${label}${MARKDOWN}`;
    case "seed":
      return `${SEED_BLOCK_DIRECTORY}${label}${MARKDOWN}`;
  }
}
