import { OID_BYTES, oidToHex, writeOid, type Oid } from "./oid.ts";

/** Slots per key at most: lookups stay at one or two probes. */
const LOAD_FACTOR = 0.5;
const MIN_CAPACITY = 64;

/** A slot: the id's 20 bytes, then its number + 1 (0 for an empty slot) as 4 little-endian bytes. */
const SLOT_BYTES = OID_BYTES + 4;

/**
 * Object ids as raw 20-byte keys, numbered 0, 1, 2, … in insertion order: a hash table with
 * open addressing whose lookups read an id where it lies (a tree entry, an index file) without
 * building a hex string. Walks over many tree entries (a long history has millions) spend most
 * of their time on such lookups; with hex strings each costs a string and its hash. Each slot
 * holds the whole id beside its number, so a lookup touches one place in memory (on large
 * tables, one cache miss rather than two). Ids are SHA-1 outputs, so four of their bytes are
 * already a good hash.
 */
export class OidTable {
  /** Ids by number, back to back. */
  private ids: Uint8Array;
  private slots: Uint8Array;
  private mask: number;
  private count = 0;
  private readonly scratch = new Uint8Array(OID_BYTES);

  /**
   * A table of the `count` sorted or unsorted ids stored back to back in `ids` (a pack index's
   * id table), numbered by their position there. It can grow beyond them; `expected` ids in
   * all are held without growing (growing rehashes every id).
   */
  constructor(ids?: Uint8Array, count = 0, expected = count) {
    this.ids = ids ?? new Uint8Array(Math.max(MIN_CAPACITY, expected) * OID_BYTES);
    const capacity = capacityFor(Math.max(count, expected));
    this.slots = new Uint8Array(capacity * SLOT_BYTES);
    this.mask = capacity - 1;
    for (let number = 0; number < count; number++) this.insert(number);
    this.count = count;
  }

  get size(): number {
    return this.count;
  }

  /** The number of the id at `bytes[offset..offset+20)`, or -1. */
  findAt(bytes: Uint8Array, offset: number): number {
    const { slots, mask } = this;
    for (let slot = hashAt(bytes, offset) & mask; ; slot = (slot + 1) & mask) {
      const at = slot * SLOT_BYTES;
      const stored = slots[at + 20] | (slots[at + 21] << 8) | (slots[at + 22] << 16) | (slots[at + 23] << 24);
      if (stored === 0) return -1;
      let same = true;
      for (let i = 0; i < OID_BYTES; i++) {
        if (slots[at + i] !== bytes[offset + i]) {
          same = false;
          break;
        }
      }
      if (same) return stored - 1;
    }
  }

  find(oid: Oid): number {
    writeOid(this.scratch, 0, oid);
    return this.findAt(this.scratch, 0);
  }

  /** The number of the id at `bytes[offset..offset+20)`, added when new. */
  addAt(bytes: Uint8Array, offset: number): number {
    const found = this.findAt(bytes, offset);
    if (found >= 0) return found;
    if ((this.count + 1) * OID_BYTES > this.ids.length) {
      const grown = new Uint8Array(this.ids.length * 2);
      grown.set(this.ids.subarray(0, this.count * OID_BYTES));
      this.ids = grown;
    }
    const number = this.count++;
    copyOid(bytes, offset, this.ids, number * OID_BYTES);
    if (this.count > (this.mask + 1) * LOAD_FACTOR) this.rehash();
    else this.insert(number);
    return number;
  }

  add(oid: Oid): number {
    writeOid(this.scratch, 0, oid);
    return this.addAt(this.scratch, 0);
  }

  oidOf(number: number): Oid {
    if (!(number >= 0 && number < this.count)) throw new RangeError(`no id numbered ${number} (of ${this.count})`);
    return oidToHex(this.ids, number * OID_BYTES);
  }

  private insert(number: number): void {
    const { slots, mask } = this;
    const idAt = number * OID_BYTES;
    let slot = hashAt(this.ids, idAt) & mask;
    while (slots[slot * SLOT_BYTES + 20] | slots[slot * SLOT_BYTES + 21] | slots[slot * SLOT_BYTES + 22] | slots[slot * SLOT_BYTES + 23]) slot = (slot + 1) & mask;
    const at = slot * SLOT_BYTES;
    copyOid(this.ids, idAt, slots, at);
    const stored = number + 1;
    slots[at + 20] = stored & 0xff;
    slots[at + 21] = (stored >>> 8) & 0xff;
    slots[at + 22] = (stored >>> 16) & 0xff;
    slots[at + 23] = stored >>> 24;
  }

  private rehash(): void {
    const capacity = capacityFor(this.count);
    this.slots = new Uint8Array(capacity * SLOT_BYTES);
    this.mask = capacity - 1;
    for (let number = 0; number < this.count; number++) this.insert(number);
  }
}

/** 20 bytes copied one by one: a subarray and set() per id cost several times more (half of building a pack index's table). */
function copyOid(from: Uint8Array, fromOffset: number, to: Uint8Array, toOffset: number): void {
  for (let i = 0; i < OID_BYTES; i++) to[toOffset + i] = from[fromOffset + i];
}

function capacityFor(count: number): number {
  let capacity = MIN_CAPACITY;
  while (capacity * LOAD_FACTOR < count + 1) capacity *= 2;
  return capacity;
}

/** Bytes 1-4 of the id: byte 0 is often shared by ids that are looked up together (a fan-out bucket). */
function hashAt(bytes: Uint8Array, offset: number): number {
  return bytes[offset + 1] | (bytes[offset + 2] << 8) | (bytes[offset + 3] << 16) | (bytes[offset + 4] << 24);
}
