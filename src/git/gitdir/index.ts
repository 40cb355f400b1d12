export { classifyGitDirFile, type GitDirFile } from "./layout.ts";
export { parseLooseObject } from "./loose-object.ts";
export { parsePackedRefs, parseRefFile, type PackedRef, type RefFileValue } from "./refs.ts";
