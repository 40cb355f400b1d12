export { allReachable, commonHaves, isAncestor } from "./ancestry.ts";
export type { ObjectFilter } from "./filter.ts";
export { findMissing, listObjects, type ListObjectsOptions, type WalkReader } from "./objects.ts";
export { computeShallow, INFINITE_DEPTH, type DeepenRequest, type ShallowUpdate } from "./shallow.ts";
export { commitHistory, type HistoryOptions } from "./history.ts";
