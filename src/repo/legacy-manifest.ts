import { CorruptDataError } from "../git/errors.ts";
import { manifestFromJson, type Manifest } from "../db/manifests.ts";

/**
 * `{org}/{agent}/manifest.json`: where versions before the database manifest kept a repository's
 * refs and packs, replaced by compare-and-swap in the blob store. Such a repository is adopted
 * into a manifest row on first access (Repositories.snapshot).
 */
export function legacyManifestKey(repositoryId: string): string {
  return `${repositoryId}/manifest.json`;
}

const LEGACY_KEYS = new Set(["version", "generation", "head", "refs", "packs"]);

/** Parses and validates a manifest.json; anything unexpected throws CorruptDataError. */
export function parseLegacyManifest(bytes: Uint8Array): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw invalid(`not UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw invalid("not an object");
  const fields = json as Record<string, unknown>;
  for (const key of Object.keys(fields)) if (!LEGACY_KEYS.has(key)) throw invalid(`unknown field ${JSON.stringify(key)}`);
  if (fields.version !== 1) throw invalid(`unsupported version ${JSON.stringify(fields.version)}`);
  return manifestFromJson(fields.generation, fields.head, fields.refs, fields.packs);
}

function invalid(message: string): CorruptDataError {
  return new CorruptDataError("manifest.invalid", `invalid manifest.json: ${message}`);
}
