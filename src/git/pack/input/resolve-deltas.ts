import type { Codec } from "../../codec/codec.ts";
import { applyDelta, readDeltaHeader } from "../../delta/apply.ts";
import { LimitExceededError, MissingObjectError } from "../../errors.ts";
import type { GitObject, ObjectReader } from "../../object/object.ts";
import type { Oid } from "../../oid.ts";
import { kindToType, PackObjectKind, typeToKind } from "../format.ts";
import type { IndexedObjectVisitor, PackLimits } from "../types.ts";
import { hashEntry, inflateEntry, type ScannedPack } from "./bytes-to-entries.ts";

/**
 * How many bytes of inflated bases may be held while their deltas are resolved; beyond it the
 * oldest are dropped and rebuilt from the pack when needed again (git's core.deltaBaseCacheLimit
 * default, which index-pack uses the same way).
 */
export const DEFAULT_BASE_CACHE_BYTES = 96 * 1024 * 1024;

/** A REF_DELTA base that was not in the pack but came from the repository ("--fix-thin"). */
export interface ThinBase extends GitObject {
  oid: Oid;
}

/** Every object of a scanned pack with its type, size and delta chain length. */
export interface ResolvedPack {
  readonly scanned: ScannedPack;
  /** Object kind (commit, tree, blob, tag) of every entry, deltas included. */
  readonly objectKinds: Uint8Array;
  /** Inflated size of every object (the result, for deltas). */
  readonly objectSizes: Float64Array;
  /** Delta chain length: 0 for whole objects. */
  readonly depths: Uint32Array;
  /** Bases taken from the repository, in the order the pack first needed them. */
  readonly thinBases: ThinBase[];
}

/** An object whose deltas are being resolved. Thin bases are nodes -1, -2, …; entries 0, 1, …. */
interface Frame {
  node: number;
  kind: PackObjectKind;
  depth: number;
  nextOfsChild: number;
  ofsChildrenEnd: number;
  refChildren: number[] | undefined;
  nextRefChild: number;
}

/** Free delta-result buffers kept for reuse at most; beyond it they are left to the collector. */
const MAX_FREE_RESULT_BYTES = 16 * 1024 * 1024;

/**
 * Buffers for delta results, handed out again once their object is neither held as a base nor
 * being looked at. Resolving a long history rebuilds every version of every tree (hundreds of
 * megabytes for a large repository, nearly all of it short-lived); reusing the buffers keeps
 * that from piling up as garbage, which the collector frees late (peak memory) and at a cost.
 * Buffers come in power-of-two sizes; only buffers made here are ever taken back.
 */
class ResultBuffers {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly made = new WeakSet<ArrayBuffer>();
  private freeBytes = 0;

  take = (size: number): Uint8Array => {
    const capacity = size <= 64 ? 64 : 2 ** Math.ceil(Math.log2(size));
    const reused = this.free.get(capacity)?.pop();
    if (reused) {
      this.freeBytes -= capacity;
      return new Uint8Array(reused, 0, size);
    }
    const buffer = new ArrayBuffer(capacity);
    this.made.add(buffer);
    return new Uint8Array(buffer, 0, size);
  };

  /** Takes back `data` (nothing else may use it any more), if it came from here. */
  give(data: Uint8Array): void {
    const buffer = data.buffer as ArrayBuffer;
    if (!this.made.has(buffer) || this.freeBytes + buffer.byteLength > MAX_FREE_RESULT_BYTES) return;
    let list = this.free.get(buffer.byteLength);
    if (!list) {
      list = [];
      this.free.set(buffer.byteLength, list);
    }
    list.push(buffer);
    this.freeBytes += buffer.byteLength;
  }
}

function isDelta(kind: number): boolean {
  return kind === PackObjectKind.OfsDelta || kind === PackObjectKind.RefDelta;
}

/**
 * Resolves every delta of a scanned pack, without recursion: each whole object (then each thin
 * base) is the root of a tree of deltas walked depth-first with an explicit stack. A base's
 * inflated data is held only while its children are being resolved (the last child releases it
 * before descending, so a long chain holds two objects at a time), and within
 * `baseCacheBytes` overall. Thin bases are read from `thinBases` once the pack's own objects
 * are exhausted, as `git index-pack --fix-thin` does. Fills in `scanned.oids` and consumes
 * `scanned.refDeltasByBase`: a scan is resolved once.
 */
export function resolveDeltas(
  scanned: ScannedPack,
  codec: Codec,
  limits: PackLimits,
  thinBases?: ObjectReader,
  baseCacheBytes = DEFAULT_BASE_CACHE_BYTES,
  onObject?: IndexedObjectVisitor,
): ResolvedPack {
  return new DeltaResolver(scanned, codec, limits, baseCacheBytes, onObject).run(thinBases);
}

class DeltaResolver {
  private readonly objectKinds: Uint8Array;
  private readonly objectSizes: Float64Array;
  private readonly depths: Uint32Array;
  /** The node each delta was resolved against. */
  private readonly resolvedBases: Int32Array;
  /** OFS_DELTA children of entry i: ofsChildren[ofsChildStart[i] .. ofsChildStart[i + 1]). */
  private readonly ofsChildStart: Int32Array;
  private readonly ofsChildren: Int32Array;
  private readonly thinBases: ThinBase[] = [];
  private readonly stack: Frame[] = [];
  private readonly held = new Map<number, Uint8Array>();
  private readonly buffers = new ResultBuffers();
  private heldBytes = 0;
  /** Frames below this stack index hold no data. */
  private firstHeldFrame = 0;
  private inflatedBytes: number;

  constructor(
    private readonly scanned: ScannedPack,
    private readonly codec: Codec,
    private readonly limits: PackLimits,
    private readonly baseCacheBytes: number,
    private readonly onObject: IndexedObjectVisitor | undefined,
  ) {
    const count = scanned.objectCount;
    this.objectKinds = new Uint8Array(count);
    this.objectSizes = new Float64Array(count);
    this.depths = new Uint32Array(count);
    this.resolvedBases = new Int32Array(count);
    this.ofsChildStart = new Int32Array(count + 1);
    this.inflatedBytes = scanned.inflatedBytes;
    for (let i = 0; i < count; i++) {
      const base = scanned.ofsBases[i];
      if (base >= 0) this.ofsChildStart[base + 1]++;
      if (!isDelta(scanned.kinds[i])) {
        this.objectKinds[i] = scanned.kinds[i];
        this.objectSizes[i] = scanned.declaredSizes[i];
      }
    }
    for (let i = 0; i < count; i++) this.ofsChildStart[i + 1] += this.ofsChildStart[i];
    this.ofsChildren = new Int32Array(this.ofsChildStart[count]);
    const fill = this.ofsChildStart.slice(0, count);
    for (let i = 0; i < count; i++) {
      const base = scanned.ofsBases[i];
      if (base >= 0) this.ofsChildren[fill[base]++] = i;
    }
  }

  run(reader: ObjectReader | undefined): ResolvedPack {
    const { scanned } = this;
    for (let i = 0; i < scanned.objectCount; i++) {
      if (!isDelta(scanned.kinds[i]) && this.hasChildren(i)) {
        this.resolveTree(i, scanned.kinds[i], inflateEntry(scanned, this.codec, i));
      }
    }
    // Bases that are not in the pack, in the order of the first delta naming each. The map
    // shrinks as trees resolve, so a base only reachable through another thin base is found.
    for (const baseOid of scanned.refDeltasByBase.keys()) {
      const object = reader?.readObject(baseOid);
      if (!object) continue;
      const node = -this.thinBases.push({ oid: baseOid, ...object });
      this.resolveTree(node, typeToKind(object.type), object.data);
    }
    const [missing, waiting] = scanned.refDeltasByBase.entries().next().value ?? [];
    if (missing !== undefined && waiting !== undefined) {
      throw new MissingObjectError(
        missing,
        `delta base ${missing} (needed by the object at offset ${scanned.offsets[waiting[0]]}) is neither in the pack nor available; ` +
          `${this.countUnresolved()} objects are unresolved`,
      );
    }
    return { scanned, objectKinds: this.objectKinds, objectSizes: this.objectSizes, depths: this.depths, thinBases: this.thinBases };
  }

  private countUnresolved(): number {
    return this.objectKinds.reduce((count, kind) => count + (kind === 0 ? 1 : 0), 0);
  }

  private oidOf(node: number): Oid {
    return node >= 0 ? this.scanned.oids[node] : this.thinBases[-node - 1].oid;
  }

  private hasChildren(node: number): boolean {
    if (node >= 0 && this.ofsChildStart[node + 1] > this.ofsChildStart[node]) return true;
    return this.scanned.refDeltasByBase.size > 0 && this.scanned.refDeltasByBase.has(this.oidOf(node));
  }

  private resolveTree(root: number, kind: PackObjectKind, data: Uint8Array): void {
    this.push(root, kind, 0, data);
    const { stack } = this;
    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      const child = this.takeNextChild(frame);
      if (child < 0) {
        this.pop();
        continue;
      }
      const base = this.held.get(frame.node) ?? this.rebuild(frame.node);
      // The last child: nothing else needs this base once the child is built.
      const last = !this.hasNextChild(frame);
      if (last) this.pop(false);
      this.resolveChild(child, frame, base);
      if (last) this.buffers.give(base);
    }
  }

  private resolveChild(child: number, parent: Frame, base: Uint8Array): void {
    const depth = parent.depth + 1;
    if (depth > this.limits.maxDeltaDepth) {
      throw new LimitExceededError(
        "pack.delta-depth",
        `delta chain of the object at offset ${this.scanned.offsets[child]} is longer than the limit of ${this.limits.maxDeltaDepth}`,
      );
    }
    const data = this.applyEntryDelta(child, base);
    this.objectKinds[child] = parent.kind;
    this.objectSizes[child] = data.length;
    this.depths[child] = depth;
    this.resolvedBases[child] = parent.node;
    this.scanned.oids[child] = hashEntry(this.codec, parent.kind, data, this.scanned.digests, child);
    this.onObject?.(this.scanned.oids[child], kindToType(parent.kind), data);
    if (this.hasChildren(child)) this.push(child, parent.kind, depth, data);
    else this.buffers.give(data);
  }

  private applyEntryDelta(entry: number, base: Uint8Array): Uint8Array {
    const delta = inflateEntry(this.scanned, this.codec, entry);
    this.inflatedBytes += readDeltaHeader(delta).resultSize;
    if (this.inflatedBytes > this.limits.maxInflatedBytes) {
      throw new LimitExceededError("pack.inflated-size", `pack inflates to more than the limit of ${this.limits.maxInflatedBytes} bytes`);
    }
    return applyDelta(base, delta, this.limits.maxObjectSize, this.buffers.take);
  }

  private push(node: number, kind: PackObjectKind, depth: number, data: Uint8Array): void {
    const ofsStart = node >= 0 ? this.ofsChildStart[node] : 0;
    const ofsEnd = node >= 0 ? this.ofsChildStart[node + 1] : 0;
    const oid = this.oidOf(node);
    const refChildren = this.scanned.refDeltasByBase.get(oid);
    if (refChildren) this.scanned.refDeltasByBase.delete(oid);
    this.stack.push({ node, kind, depth, nextOfsChild: ofsStart, ofsChildrenEnd: ofsEnd, refChildren, nextRefChild: 0 });
    this.hold(node, data);
  }

  private takeNextChild(frame: Frame): number {
    if (frame.nextOfsChild < frame.ofsChildrenEnd) return this.ofsChildren[frame.nextOfsChild++];
    if (frame.refChildren && frame.nextRefChild < frame.refChildren.length) return frame.refChildren[frame.nextRefChild++];
    return -1;
  }

  private hasNextChild(frame: Frame): boolean {
    return frame.nextOfsChild < frame.ofsChildrenEnd || (frame.refChildren !== undefined && frame.nextRefChild < frame.refChildren.length);
  }

  /** Pops the top frame; its data is given back for reuse unless the caller still uses it (`recycle` false). */
  private pop(recycle = true): void {
    this.release((this.stack.pop() as Frame).node, recycle);
    this.firstHeldFrame = Math.max(0, Math.min(this.firstHeldFrame, this.stack.length - 1));
  }

  /** Holds the data of the top frame, dropping the deepest frames' data while over budget. */
  private hold(node: number, data: Uint8Array): void {
    this.held.set(node, data);
    this.heldBytes += data.length;
    // The deepest bases are the last to be needed again. Only the top frame is ever rebuilt,
    // so frames below firstHeldFrame stay dropped and are not visited again.
    while (this.heldBytes > this.baseCacheBytes && this.firstHeldFrame < this.stack.length - 1) {
      this.release(this.stack[this.firstHeldFrame++].node);
    }
  }

  private release(node: number, recycle = true): void {
    const data = this.held.get(node);
    if (data === undefined) return;
    this.held.delete(node);
    this.heldBytes -= data.length;
    if (recycle) this.buffers.give(data);
  }

  /** Rebuilds a dropped base from the nearest held ancestor, the pack, or its thin base. */
  private rebuild(node: number): Uint8Array {
    const chain: number[] = [];
    let ancestor = node;
    while (ancestor >= 0 && isDelta(this.scanned.kinds[ancestor]) && !this.held.has(ancestor)) {
      chain.push(ancestor);
      ancestor = this.resolvedBases[ancestor];
    }
    let data = this.held.get(ancestor) ?? (ancestor >= 0 ? inflateEntry(this.scanned, this.codec, ancestor) : this.thinBases[-ancestor - 1].data);
    for (let i = chain.length - 1; i >= 0; i--) {
      const base = data;
      data = applyDelta(base, inflateEntry(this.scanned, this.codec, chain[i]), this.limits.maxObjectSize, this.buffers.take);
      if (base !== this.held.get(ancestor)) this.buffers.give(base);
    }
    this.hold(node, data);
    return data;
  }
}
