import { CorruptDataError } from "../git/errors.ts";
import { isOid, ZERO_OID, type Oid } from "../git/oid.ts";
import { isUpdatableRefName } from "../git/refname.ts";

/**
 * A repository's manifest.json: its refs, HEAD's symbolic target and the list of live packs.
 * Replacing it by compare-and-swap is the commit point of every write (DESIGN.md, "Storage
 * layout"). `generation` counts those replacements: it orders writers (the SQL mirror never
 * applies an older generation over a newer one) independently of the store's own generations.
 */
export interface Manifest {
  readonly version: 1;
  readonly generation: number;
  readonly head: string;
  readonly refs: ReadonlyMap<string, Oid>;
  /** Pack names, `pack-{checksum}`, oldest first. */
  readonly packs: readonly string[];
}

export const MANIFEST_VERSION = 1;
export const DEFAULT_HEAD = "refs/heads/main";

const PACK_NAME_PATTERN = /^pack-[0-9a-f]{40}$/;
const MANIFEST_KEYS = new Set(["version", "generation", "head", "refs", "packs"]);

/** What a never-written repository looks like: no refs, HEAD → refs/heads/main (unborn). */
export const EMPTY_MANIFEST: Manifest = { version: 1, generation: 0, head: DEFAULT_HEAD, refs: new Map(), packs: [] };

export function packName(packChecksum: Oid): string {
  return `pack-${packChecksum}`;
}

export function isPackName(value: string): boolean {
  return PACK_NAME_PATTERN.test(value);
}

function invalid(message: string): CorruptDataError {
  return new CorruptDataError("manifest.invalid", `invalid manifest: ${message}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseRefs(value: unknown): Map<string, Oid> {
  if (!isPlainObject(value)) throw invalid("refs must be an object");
  const refs = new Map<string, Oid>();
  for (const [name, oid] of Object.entries(value)) {
    if (!isUpdatableRefName(name)) throw invalid(`bad ref name ${JSON.stringify(name)}`);
    if (typeof oid !== "string" || !isOid(oid) || oid === ZERO_OID) throw invalid(`bad object id for ${name}`);
    refs.set(name, oid);
  }
  return refs;
}

function parsePacks(value: unknown): string[] {
  if (!Array.isArray(value)) throw invalid("packs must be an array");
  const seen = new Set<string>();
  for (const name of value) {
    if (typeof name !== "string" || !isPackName(name)) throw invalid(`bad pack name ${JSON.stringify(name)}`);
    if (seen.has(name)) throw invalid(`pack ${name} listed twice`);
    seen.add(name);
  }
  return value as string[];
}

/** Parses and validates manifest.json; anything unexpected throws CorruptDataError. */
export function parseManifest(bytes: Uint8Array): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw invalid(`not UTF-8 JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(json)) throw invalid("not an object");
  for (const key of Object.keys(json)) if (!MANIFEST_KEYS.has(key)) throw invalid(`unknown field ${JSON.stringify(key)}`);
  if (json.version !== MANIFEST_VERSION) throw invalid(`unsupported version ${JSON.stringify(json.version)}`);
  const generation = json.generation;
  if (typeof generation !== "number" || !Number.isSafeInteger(generation) || generation < 0) throw invalid("bad generation");
  if (typeof json.head !== "string" || !isUpdatableRefName(json.head)) throw invalid("bad head");
  return { version: 1, generation, head: json.head, refs: parseRefs(json.refs), packs: parsePacks(json.packs) };
}

/** The manifest as stored: refs sorted by name, so equal manifests are equal bytes. */
export function serializeManifest(manifest: Manifest): Uint8Array {
  const refs: Record<string, Oid> = {};
  for (const name of [...manifest.refs.keys()].sort()) refs[name] = manifest.refs.get(name)!;
  const json = { version: manifest.version, generation: manifest.generation, head: manifest.head, refs, packs: manifest.packs };
  return new TextEncoder().encode(`${JSON.stringify(json, null, 1)}\n`);
}
