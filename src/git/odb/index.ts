export { ObjectCache } from "./cache.ts";
export { DEFAULT_CACHE_BYTES, ObjectDatabase, type ObjectDatabaseOptions } from "./database.ts";
export type { ObjectInfo } from "../pack/packfile.ts";
