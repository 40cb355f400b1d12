import type { Codec } from "../git/codec/codec.ts";
import { GitError } from "../git/errors.ts";
import { ObjectDatabase } from "../git/odb/index.ts";
import { verifyPack } from "../git/pack/verify.ts";
import { findMissing } from "../git/walk/index.ts";
import type { ManifestStore } from "../db/manifests.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { packFileKey, parsePackFileKey, repositoryKeys } from "./layout.ts";
import { readPack } from "./packs.ts";

/** What `stategit fsck` found in one repository. */
export interface RepositoryCheck {
  org: string;
  repo: string;
  refs: number;
  packs: number;
  objects: number;
  /** Pack files no manifest names (garbage that compaction removes after the grace period). */
  unnamedFiles: number;
  /** One line per problem, empty when the repository is sound. */
  problems: string[];
}

function reason(error: unknown): string {
  return error instanceof GitError ? error.message : `${(error as Error)?.message ?? error}`;
}

/**
 * Checks one repository as stored: its manifest row, every pack and index it names (present,
 * and consistent as `git verify-pack` checks them), and that every ref reaches only objects the
 * packs hold. A manifest whose packs are gone is what a database backup older than the grace
 * period restores to: the message says so.
 */
export async function checkRepository(store: BlobStore, manifests: ManifestStore, codec: Codec, org: string, repo: string): Promise<RepositoryCheck> {
  const check: RepositoryCheck = { org, repo, refs: 0, packs: 0, objects: 0, unnamedFiles: 0, problems: [] };
  let manifest;
  try {
    manifest = await manifests.read(org, repo);
  } catch (error) {
    check.problems.push(`manifest: ${reason(error)}`);
    return check;
  }
  if (!manifest) return check;
  check.refs = manifest.refs.size;
  check.packs = manifest.packs.length;
  const keys = repositoryKeys(org, repo);
  const named = new Set(manifest.packs);
  const listed = new Set<string>();
  for (const { key } of await store.list(keys.packsPrefix)) {
    const parsed = parsePackFileKey(keys, key);
    if (parsed && named.has(parsed.packName)) listed.add(key);
    else check.unnamedFiles++;
  }
  const objects = new ObjectDatabase(codec);
  for (const name of manifest.packs) {
    const missing = [".pack", ".idx"].filter((extension) => !listed.has(packFileKey(keys, name, extension as ".pack" | ".idx")));
    if (missing.length > 0) {
      check.problems.push(`${name}: named by the manifest, but ${missing.join(" and ")} gone from storage (was the database restored from a backup older than the grace period?)`);
      continue;
    }
    try {
      const pack = await readPack(store, keys, name, codec, objects.cache);
      check.objects += verifyPack(pack.pack, pack.index, codec).objectCount;
      objects.addPack(pack.file);
    } catch (error) {
      check.problems.push(`${name}: ${reason(error)}`);
    }
  }
  for (const [ref, oid] of manifest.refs) {
    try {
      const missing = findMissing(objects, [oid], []);
      if (missing.length > 0) check.problems.push(`${ref}: ${missing.length} missing object${missing.length === 1 ? "" : "s"} (${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ", …" : ""})`);
    } catch (error) {
      check.problems.push(`${ref}: ${reason(error)}`);
    }
  }
  return check;
}
