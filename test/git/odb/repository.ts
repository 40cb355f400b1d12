/** Loads a real repository's packs into the engine's object database, for oracle tests. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Codec } from "../../../src/git/codec/codec.ts";
import { decodePackIndex } from "../../../src/git/idxfile/index.ts";
import { ObjectDatabase, type ObjectDatabaseOptions } from "../../../src/git/odb/index.ts";
import { PackFile } from "../../../src/git/pack/packfile.ts";

export interface PackBytes {
  name: string;
  pack: Uint8Array;
  idx: Uint8Array;
}

/** Every pack of a repository (bare or not), oldest name first. */
export function readPacks(gitDir: string): PackBytes[] {
  const dir = join(gitDir, "objects", "pack");
  return readdirSync(dir)
    .filter((file) => file.endsWith(".pack"))
    .sort()
    .map((file) => ({
      name: file,
      pack: new Uint8Array(readFileSync(join(dir, file))),
      idx: new Uint8Array(readFileSync(join(dir, file.replace(/\.pack$/, ".idx")))),
    }));
}

/** An object database holding every pack of `gitDir` (which must have no loose objects). */
export function openDatabase(gitDir: string, codec: Codec, options: ObjectDatabaseOptions = {}): ObjectDatabase {
  const database = new ObjectDatabase(codec, options);
  for (const { pack, idx } of readPacks(gitDir)) {
    database.addPack(new PackFile(pack, decodePackIndex(idx, codec), codec, database.cache));
  }
  return database;
}
