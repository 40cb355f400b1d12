export { indexPack, type IndexedPack, type IndexPackOptions } from "./index-pack.ts";
