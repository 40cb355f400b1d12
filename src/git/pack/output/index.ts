/**
 * The outgoing pack pipeline, in three steps as in gitoxide's gix-pack output module and git's
 * pack-objects: count (what to send and what is stored), entry (reuse stored deltas, search
 * new ones), bytes (stream header, entries and trailer).
 */
import { concatBytes } from "../../bytes.ts";
import type { Codec } from "../../codec/codec.ts";
import type { GitObject } from "../../object/object.ts";
import { hashObject } from "../../object/object.ts";
import type { Oid } from "../../oid.ts";
import type { PackObjectSpec } from "../types.ts";
import { writeEntries, type PackWriteResult } from "./bytes.ts";
import { countObjects } from "./count.ts";
import { findDeltas } from "./delta-search.ts";
import { resolvePackOptions, type PackWriteOptions } from "./options.ts";
import type { PackSource } from "./source.ts";

export type { PackWriteResult, PackWriteStats, WrittenEntry } from "./bytes.ts";
export { pathNameHash } from "./entry.ts";
export type { PackPhase, PackWriteOptions } from "./options.ts";
export type { PackSource } from "./source.ts";

/** How long the writer computes before letting the event loop run (other requests, I/O). */
const TIME_SLICE_MS = 20;

function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The whole pipeline as one synchronous generator: pack chunks, and `undefined` at points where
 * a long computation may pause.
 */
function* packSteps(
  specs: ReadonlyArray<PackObjectSpec>,
  source: PackSource,
  options: PackWriteOptions,
): Generator<Uint8Array | undefined, PackWriteResult> {
  const resolved = resolvePackOptions(options);
  const counted = countObjects(specs, source, resolved);
  yield* findDeltas(counted, source, resolved);
  return yield* writeEntries(counted.entries, source, resolved);
}

/**
 * Writes a pack of `specs` (the counting walk's objects, most recent first, with path hints)
 * as a stream of chunks of about 64 KiB, ready to be framed in side-band packets. The delta
 * search runs before the first chunk; it gives the event loop a turn every few milliseconds
 * and then hands out an empty chunk, a chance to send progress while no data flows.
 * The generator's return value has the checksum and what was reused or computed.
 */
export async function* writePack(
  specs: ReadonlyArray<PackObjectSpec>,
  source: PackSource,
  options: PackWriteOptions = {},
): AsyncGenerator<Uint8Array, PackWriteResult, undefined> {
  const steps = packSteps(specs, source, options);
  let sliceStart = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (step.value) yield step.value;
    if (performance.now() - sliceStart >= TIME_SLICE_MS) {
      if (!step.value) yield new Uint8Array(0);
      await nextMacrotask();
      sliceStart = performance.now();
    }
  }
}

/** A source over objects held in memory, keyed by their ids. */
function memorySource(objects: ReadonlyArray<GitObject>, codec: Codec): { specs: PackObjectSpec[]; source: PackSource } {
  const byOid = new Map<Oid, GitObject>();
  const specs: PackObjectSpec[] = [];
  for (const object of objects) {
    const oid = hashObject(codec, object.type, object.data);
    if (!byOid.has(oid)) specs.push({ oid, type: object.type });
    byOid.set(oid, object);
  }
  return { specs, source: { hasObject: (oid) => byOid.has(oid), readObject: (oid) => byOid.get(oid) } };
}

/** A whole pack in one buffer: for a few objects (an API commit) or tests. */
export async function buildPack(
  input: ReadonlyArray<GitObject> | { specs: ReadonlyArray<PackObjectSpec>; source: PackSource },
  options: PackWriteOptions = {},
): Promise<Uint8Array> {
  const { specs, source } = "specs" in input ? input : memorySource(input, resolvePackOptions(options).codec);
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of writePack(specs, source, options)) {
    chunks.push(chunk);
    length += chunk.length;
  }
  return concatBytes(chunks, length);
}
