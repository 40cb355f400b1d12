/**
 * Memory files (DESIGN.md, "Blocks"), as a pipeline: the files a change touches (changes.ts) →
 * their front matter (front-matter.ts) → the rules (rules/) → the mirror's rows (memory-file.ts).
 */
export { changedFiles, TreeFiles, type FileChange, type FileVersion } from "./changes.ts";
export { BlockInputError } from "./errors.ts";
export { countCharacters, decodeText, fileValue, renderFile, replaceValue, splitFrontMatter, updateFile, type FieldUpdate, type FrontMatter } from "./front-matter.ts";
export { blockPath, checkLabel, detectLayout, INDEX_FILE, kindOf, labelOf, type BlockLayout, type MemoryKind, type MemoryLayout } from "./layout.ts";
export { CONFIG_PATH, DEFAULT_MEMFS_CONFIG, parseMemfsConfig, type MemfsConfig } from "./memfs-config.ts";
export {
  memoryFile,
  memoryFiles,
  mirrorChanges,
  treeLayout,
  writeBlockFile,
  type BlockUpdate,
  type MemoryFile,
  type MirrorChanges,
  type MirrorInput,
} from "./memory-file.ts";
export { BLOCK_RULES, checkChanges, estimatedTokens, refuses, type BlockPolicy, type BlockRule, type CheckInput, type MemoryPolicy, type Problem, type RuleFormat } from "./rules/index.ts";
