import { checkName } from "../names.ts";

/**
 * Where a repository's blobs live (DESIGN.md, "Where things live"):
 * `{org}/{agent}/packs/pack-{checksum}.pack|.idx`.
 */
export interface RepositoryKeys {
  /** `org/agent`: the repository's identity, also its cache key. */
  readonly id: string;
  /** The prefix every pack and index key starts with, for listing. */
  readonly packsPrefix: string;
}

export type PackFileExtension = ".pack" | ".idx";

/** The keys of `{org}/{agent}`; both names are checked (InvalidNameError) so keys stay one segment each. */
export function repositoryKeys(org: string, agent: string): RepositoryKeys {
  const id = `${checkName("organisation", org)}/${checkName("agent id", agent)}`;
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
