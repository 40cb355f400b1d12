import { checkName, InvalidNameError, isValidName } from "../names.ts";

/**
 * A repository's name within its organisation: an agent id for an agent's own memory
 * (`state.git`), or `repositories/{id}` for a shared repository (DESIGN.md, "Shared memory"). Agent
 * ids never contain `/`, so the two kinds never collide, and a shared repository lives under the
 * organisation rather than under any agent.
 */
export type RepositoryName = string;

/** What a shared repository's name starts with, before its id. */
export const SHARED_REPOSITORY_PREFIX = "repositories/";

/** The repository name of the shared repository `id`. */
export function sharedRepositoryName(id: string): RepositoryName {
  return `${SHARED_REPOSITORY_PREFIX}${checkName("repository id", id)}`;
}

/** The shared repository's id when `name` names one, else undefined (an agent's own repository). */
export function sharedRepositoryId(name: RepositoryName): string | undefined {
  return name.startsWith(SHARED_REPOSITORY_PREFIX) ? name.slice(SHARED_REPOSITORY_PREFIX.length) : undefined;
}

/** Whether `name` is a valid repository name: an agent id, or `repositories/` and a valid id. */
export function isRepositoryName(name: string): boolean {
  const shared = sharedRepositoryId(name);
  return isValidName(shared ?? name);
}

/** Returns `name` when it is a valid repository name; InvalidNameError otherwise. */
export function checkRepositoryName(name: string): RepositoryName {
  if (!isRepositoryName(name)) throw new InvalidNameError(sharedRepositoryId(name) === undefined ? "agent id" : "repository id", name);
  return name;
}

/**
 * Where a repository's blobs live (DESIGN.md, "Where things live"):
 * `{org}/{name}/packs/pack-{checksum}.pack|.idx`, i.e. `{org}/{agent}/packs/...` for an agent's
 * memory and `{org}/repositories/{id}/packs/...` for a shared repository.
 */
export interface RepositoryKeys {
  /** `org/name`: the repository's identity, also its cache key. */
  readonly id: string;
  /** The prefix every pack and index key starts with, for listing. */
  readonly packsPrefix: string;
}

export type PackFileExtension = ".pack" | ".idx";

/** The keys of `{org}/{name}`; both are checked (InvalidNameError) so that keys stay within their segments. */
export function repositoryKeys(org: string, name: RepositoryName): RepositoryKeys {
  const id = `${checkName("organisation", org)}/${checkRepositoryName(name)}`;
  return { id, packsPrefix: `${id}/packs/` };
}

export function packFileKey(keys: RepositoryKeys, packName: string, extension: PackFileExtension): string {
  return `${keys.packsPrefix}${packName}${extension}`;
}

/** The pack name and extension of a key under `packsPrefix`, or undefined for anything else. */
export function parsePackFileKey(keys: RepositoryKeys, key: string): { packName: string; extension: PackFileExtension } | undefined {
  const match = /^(pack-[0-9a-f]{40})(\.pack|\.idx)$/.exec(key.slice(keys.packsPrefix.length));
  if (!key.startsWith(keys.packsPrefix) || !match) return undefined;
  return { packName: match[1], extension: match[2] as PackFileExtension };
}
