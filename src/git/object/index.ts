export * from "./object.ts";
export * from "./tree.ts";
export * from "./tree-path.ts";
export type { Identity } from "./identity.ts";
export { decodeObjectText, findHeader, type ExtraHeader, type HeadersAndMessage } from "./headers.ts";
export * from "./commit.ts";
export * from "./tag.ts";
export * from "./fsck.ts";
