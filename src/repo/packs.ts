import { packName } from "../db/manifests.ts";
import { concatBytes } from "../git/bytes.ts";
import type { Codec } from "../git/codec/codec.ts";
import { CorruptDataError } from "../git/errors.ts";
import { decodePackIndex, encodePackIndex, type PackIndexEntry } from "../git/idxfile/index.ts";
import type { GitObject } from "../git/object/object.ts";
import type { ObjectCache } from "../git/odb/index.ts";
import type { Oid } from "../git/oid.ts";
import { indexPack } from "../git/pack/input/index.ts";
import { buildPack, writePack, type PackSource } from "../git/pack/output/index.ts";
import { PackFile } from "../git/pack/packfile.ts";
import type { PackObjectSpec } from "../git/pack/types.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { packFileKey, type RepositoryKeys } from "./layout.ts";

/** A pack in memory with its index: readable through `file`, and storable as it is. */
export interface LoadedPack {
  readonly name: string;
  readonly file: PackFile;
  readonly pack: Uint8Array;
  readonly index: Uint8Array;
}

/** Missing pack files: a manifest names a pack the store does not hold (yet, or any more). */
export class MissingPackError extends CorruptDataError {
  constructor(readonly packName: string) {
    super("repo.pack-missing", `pack ${packName} is missing from storage`);
  }
}

/** What a loaded pack costs beyond its bytes: its decoded index, reader and their objects (measured, see ENTRY_OVERHEAD_BYTES). */
const PACK_OVERHEAD_BYTES = 4096;

/** The memory a loaded pack holds, as the repository cache counts it. */
export function loadedPackBytes(pack: LoadedPack): number {
  return PACK_OVERHEAD_BYTES + pack.pack.length + pack.index.length;
}

/**
 * The bytes in a SharedArrayBuffer (copied once, unless they are already): pack worker threads
 * then read a repository's packs where they are, with nothing copied per job or per thread.
 */
export function inSharedMemory(bytes: Uint8Array): Uint8Array {
  if (bytes.buffer instanceof SharedArrayBuffer) return bytes;
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
  shared.set(bytes);
  return shared;
}

/** The stored index of each pack opened here: what a worker thread needs to open the same pack. */
const indexes = new WeakMap<PackFile, Uint8Array>();

/** The pack and index bytes a PackFile was opened from (openPack); undefined for packs opened elsewhere. */
export function packFileBytes(file: PackFile): { pack: Uint8Array; index: Uint8Array } | undefined {
  const index = indexes.get(file);
  return index && { pack: file.fileBytes, index };
}

/** Opens a pack from its bytes, held in shared memory; `name` must match its checksum. */
export function openPack(name: string, packBytes: Uint8Array, indexBytes: Uint8Array, codec: Codec, cache: ObjectCache): LoadedPack {
  const pack = inSharedMemory(packBytes);
  const index = inSharedMemory(indexBytes);
  const file = new PackFile(pack, decodePackIndex(index, codec), codec, cache);
  if (packName(file.checksum) !== name) {
    throw new CorruptDataError("repo.pack-name", `pack stored as ${name} has checksum ${file.checksum}`);
  }
  indexes.set(file, index);
  return { name, file, pack, index };
}

/**
 * Reads a pack and its index. The index is fully verified (decodePackIndex checks its SHA-1)
 * and must match the pack's trailer; the pack's own checksum was verified when it was written.
 */
export async function readPack(store: BlobStore, keys: RepositoryKeys, name: string, codec: Codec, cache: ObjectCache): Promise<LoadedPack> {
  const [pack, index] = await Promise.all([store.get(packFileKey(keys, name, ".pack")), store.get(packFileKey(keys, name, ".idx"))]);
  if (!pack || !index) throw new MissingPackError(name);
  return openPack(name, pack, index, codec, cache);
}

/** A complete pack with its entries (from indexPack or the pack writer), ready to store and read. */
export function preparePack(pack: Uint8Array, entries: readonly PackIndexEntry[], checksum: Oid, codec: Codec, cache: ObjectCache): LoadedPack {
  return openPack(packName(checksum), pack, encodePackIndex(entries, checksum, codec), codec, cache);
}

/** Packs objects held in memory (an API commit's new blobs, trees and commit). */
export async function packObjects(objects: readonly GitObject[], codec: Codec, cache: ObjectCache): Promise<LoadedPack> {
  const indexed = indexPack(await buildPack(objects, { codec }), { codec });
  return preparePack(indexed.pack, indexed.entries, indexed.packChecksum, codec, cache);
}

/** Re-packs `specs` from `source` into one pack, reusing stored deltas (compaction). */
export async function repackObjects(specs: readonly PackObjectSpec[], source: PackSource, codec: Codec, cache: ObjectCache): Promise<LoadedPack> {
  return indexWrittenPack(writePack(specs, source, { codec, indexEntries: true }), codec, cache);
}

async function indexWrittenPack(stream: ReturnType<typeof writePack>, codec: Codec, cache: ObjectCache): Promise<LoadedPack> {
  const chunks: Uint8Array[] = [];
  let step = await stream.next();
  for (; !step.done; step = await stream.next()) chunks.push(step.value);
  const { entries, checksum, byteLength } = step.value;
  return preparePack(concatBytes(chunks, byteLength), entries ?? [], checksum, codec, cache);
}

/**
 * Stores a pack and its index, create-only. An existing file of the same name has the same
 * content (the name is the checksum of the bytes), so finding one is success.
 */
export async function storePack(store: BlobStore, keys: RepositoryKeys, pack: LoadedPack): Promise<void> {
  await Promise.all([
    store.createOnly(packFileKey(keys, pack.name, ".pack"), pack.pack),
    store.createOnly(packFileKey(keys, pack.name, ".idx"), pack.index),
  ]);
}
