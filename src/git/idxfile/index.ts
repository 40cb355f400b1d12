export { decodePackIndex, PackIndexFile } from "./decoder.ts";
export { encodePackIndex, type PackIndexEntry } from "./encoder.ts";
