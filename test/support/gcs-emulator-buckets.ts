import { createHash } from "node:crypto";

/**
 * The object model behind the GCS emulator (gcs-emulator.ts): buckets of objects with GCS's
 * generation and metageneration numbers, its preconditions and its per-object write rate, and
 * the JSON resources and errors GCS answers with. No HTTP here.
 */

export interface StoredObject {
  bucket: string;
  name: string;
  data: Uint8Array;
  /** Microseconds since the epoch at the write, unique and increasing, as GCS issues them. */
  generation: number;
  /** 1 at each new generation; each metadata update adds 1. */
  metageneration: number;
  contentType: string;
  metadata: Record<string, string> | undefined;
  created: Date;
  updated: Date;
  md5Hash: string;
  crc32c: string;
}

/** The conditions of a request, from its query string (absent conditions are undefined). */
export interface Preconditions {
  ifGenerationMatch?: number;
  ifGenerationNotMatch?: number;
  ifMetagenerationMatch?: number;
  ifMetagenerationNotMatch?: number;
}

/** An answer GCS gives as a JSON error: `{error: {code, message, errors: [{reason, message, domain}]}}`. */
export class GcsHttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }

  toResponse(): Response {
    const error = { domain: "global", reason: this.reason, message: this.message };
    return Response.json({ error: { code: this.status, message: this.message, errors: [error] } }, { status: this.status });
  }
}

export const preconditionFailed = () =>
  new GcsHttpError(412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.");
export const noSuchObject = (bucket: string, name: string) =>
  new GcsHttpError(404, "notFound", `No such object: ${bucket}/${name}`);
export const badRequest = (message: string) => new GcsHttpError(400, "invalid", message);

/** What a metadata update may change (objects.patch). */
export interface ObjectPatch {
  contentType?: string;
  metadata?: Record<string, string | null> | null;
}

export function preconditionsOf(query: URLSearchParams): Preconditions {
  return {
    ifGenerationMatch: optionalInteger(query, "ifGenerationMatch"),
    ifGenerationNotMatch: optionalInteger(query, "ifGenerationNotMatch"),
    ifMetagenerationMatch: optionalInteger(query, "ifMetagenerationMatch"),
    ifMetagenerationNotMatch: optionalInteger(query, "ifMetagenerationNotMatch"),
  };
}

export function optionalInteger(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (!/^\d+$/.test(value)) throw badRequest(`Invalid value for ${name}: ${value}`);
  return Number(value);
}

export interface ListOptions {
  prefix: string;
  delimiter?: string;
  /** Only names at or after this one... */
  startOffset?: string;
  /** ...and before this one. */
  endOffset?: string;
  maxResults: number;
  pageToken?: string;
}

export class Buckets {
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  /** Last successful write per `bucket/name`, for objectWriteIntervalMs. */
  private readonly lastWrites = new Map<string, number>();
  /** Each bucket's objects in name order, kept until the next insert or delete: listings scan it. */
  private readonly sorted = new Map<string, StoredObject[]>();
  private lastGeneration = 0;

  constructor(
    /** GCS's rule, at most one write per second to one object name, is 1000 here; 0 turns it off. */
    private readonly objectWriteIntervalMs: () => number,
  ) {}

  createBucket(name: string): boolean {
    if (this.buckets.has(name)) return false;
    this.buckets.set(name, new Map());
    return true;
  }

  /** Throws GCS's 404 unless the bucket exists. */
  checkBucket(name: string): void {
    this.bucket(name);
  }

  /** Every object of a bucket, in name order (do not modify the array); for tests that look behind the API. */
  objects(bucket: string): StoredObject[] {
    let sorted = this.sorted.get(bucket);
    if (!sorted) {
      sorted = [...this.bucket(bucket).values()].sort((a, b) => compareNames(a.name, b.name));
      this.sorted.set(bucket, sorted);
    }
    return sorted;
  }

  clear(): void {
    for (const objects of this.buckets.values()) objects.clear();
    this.sorted.clear();
    this.lastWrites.clear();
  }

  /**
   * The object a read addresses. `generation` (a query parameter) must name the live generation:
   * the emulator keeps no older ones. `NotMatch` conditions that fail answer 304, as GCS does on reads.
   */
  read(bucket: string, name: string, conditions: Preconditions, generation?: number): StoredObject | "not modified" {
    const object = this.bucket(bucket).get(name);
    if (!object || (generation !== undefined && generation !== object.generation)) throw noSuchObject(bucket, name);
    checkMatchConditions(object, conditions);
    if (conditions.ifGenerationNotMatch === object.generation || conditions.ifMetagenerationNotMatch === object.metageneration) {
      return "not modified";
    }
    return object;
  }

  /** objects.insert: a new generation of `name`, if the conditions hold (a missing object has generation 0). */
  insert(bucket: string, name: string, data: Uint8Array, contentType: string, metadata: Record<string, string> | undefined, conditions: Preconditions): StoredObject {
    checkName(name);
    const objects = this.bucket(bucket);
    const current = objects.get(name);
    checkWriteConditions(current, conditions);
    this.checkWriteRate(bucket, name);
    const now = new Date();
    const object: StoredObject = {
      bucket,
      name,
      data,
      generation: this.nextGeneration(),
      metageneration: 1,
      contentType,
      metadata,
      created: now,
      updated: now,
      md5Hash: md5Of(data),
      crc32c: crc32cOf(data),
    };
    objects.set(name, object);
    this.sorted.delete(bucket);
    return object;
  }

  /** objects.patch: new metadata, same generation, next metageneration. */
  patch(bucket: string, name: string, patch: ObjectPatch, conditions: Preconditions): StoredObject {
    const object = this.bucket(bucket).get(name);
    if (!object) throw noSuchObject(bucket, name);
    checkWriteConditions(object, conditions);
    this.checkWriteRate(bucket, name);
    if (patch.contentType !== undefined) object.contentType = patch.contentType;
    if (patch.metadata === null) object.metadata = undefined;
    else if (patch.metadata !== undefined) {
      const merged: Record<string, string> = { ...object.metadata };
      for (const [key, value] of Object.entries(patch.metadata)) {
        if (value === null) delete merged[key];
        else merged[key] = value;
      }
      object.metadata = merged;
    }
    object.metageneration += 1;
    object.updated = new Date();
    return object;
  }

  delete(bucket: string, name: string, conditions: Preconditions, generation?: number): void {
    const objects = this.bucket(bucket);
    const object = objects.get(name);
    if (!object || (generation !== undefined && generation !== object.generation)) throw noSuchObject(bucket, name);
    checkWriteConditions(object, conditions);
    this.checkWriteRate(bucket, name);
    objects.delete(name);
    this.sorted.delete(bucket);
  }

  /**
   * objects.list: names after `pageToken` that start with `prefix` and lie between the offsets,
   * in name order; with a delimiter, names that contain it after the prefix collapse into one
   * `prefixes` entry. A page holds at most `maxResults` items and prefixes together.
   */
  list(bucket: string, options: ListOptions) {
    const start = options.pageToken === undefined ? undefined : Buffer.from(options.pageToken, "base64url").toString();
    const items: StoredObject[] = [];
    const prefixes: string[] = [];
    let last: string | undefined;
    for (const object of this.objects(bucket)) {
      if (!object.name.startsWith(options.prefix)) continue;
      if (options.startOffset !== undefined && compareNames(object.name, options.startOffset) < 0) continue;
      if (options.endOffset !== undefined && compareNames(object.name, options.endOffset) >= 0) continue;
      const delimiterAt = options.delimiter ? object.name.indexOf(options.delimiter, options.prefix.length) : -1;
      const entry = delimiterAt < 0 ? object.name : object.name.slice(0, delimiterAt + options.delimiter!.length);
      if (start !== undefined && compareNames(entry, start) <= 0) continue;
      if (entry === last) continue;
      if (items.length + prefixes.length === options.maxResults) {
        return { items, prefixes, nextPageToken: Buffer.from(last!).toString("base64url") };
      }
      if (delimiterAt < 0) items.push(object);
      else prefixes.push(entry);
      last = entry;
    }
    return { items, prefixes, nextPageToken: undefined };
  }

  private bucket(name: string): Map<string, StoredObject> {
    const objects = this.buckets.get(name);
    if (!objects) throw new GcsHttpError(404, "notFound", "The specified bucket does not exist.");
    return objects;
  }

  private checkWriteRate(bucket: string, name: string): void {
    const key = `${bucket}/${name}`;
    const now = performance.now();
    const last = this.lastWrites.get(key);
    const interval = this.objectWriteIntervalMs();
    if (interval > 0 && last !== undefined && now - last < interval) {
      throw new GcsHttpError(
        429,
        "rateLimitExceeded",
        "The object exceeded the rate limit for object mutation operations (create, update, and delete). Please reduce your request rate. See https://cloud.google.com/storage/docs/gcs429.",
      );
    }
    this.lastWrites.set(key, now);
  }

  private nextGeneration(): number {
    this.lastGeneration = Math.max(Date.now() * 1000, this.lastGeneration + 1);
    return this.lastGeneration;
  }
}

/** The JSON resource GCS answers for an object (numbers that are int64 in the API are strings). */
export function objectResource(object: StoredObject, baseUrl: string) {
  const path = `b/${encodeURIComponent(object.bucket)}/o/${encodeURIComponent(object.name)}`;
  return {
    kind: "storage#object",
    id: `${object.bucket}/${object.name}/${object.generation}`,
    selfLink: `${baseUrl}/storage/v1/${path}`,
    mediaLink: `${baseUrl}/download/storage/v1/${path}?generation=${object.generation}&alt=media`,
    name: object.name,
    bucket: object.bucket,
    generation: String(object.generation),
    metageneration: String(object.metageneration),
    contentType: object.contentType,
    storageClass: "STANDARD",
    size: String(object.data.length),
    md5Hash: object.md5Hash,
    crc32c: object.crc32c,
    etag: etagOf(object),
    timeCreated: object.created.toISOString(),
    updated: object.updated.toISOString(),
    timeStorageClassUpdated: object.created.toISOString(),
    ...(object.metadata && { metadata: object.metadata }),
  };
}

export function etagOf(object: StoredObject): string {
  return Buffer.from(`${object.generation}/${object.metageneration}`).toString("base64");
}

export function md5Of(data: Uint8Array): string {
  return createHash("md5").update(data).digest("base64");
}

/** CRC32C (Castagnoli), base64 of its 4 big-endian bytes as GCS shows it; slice-by-8, 15x the client's own. */
export function crc32cOf(data: Uint8Array): string {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC32C_TABLES;
  let crc = -1;
  let i = 0;
  for (const end = data.length - (data.length % 8); i < end; i += 8) {
    const low = crc ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    crc =
      t7[low & 0xff] ^ t6[(low >>> 8) & 0xff] ^ t5[(low >>> 16) & 0xff] ^ t4[low >>> 24] ^
      t3[data[i + 4]] ^ t2[data[i + 5]] ^ t1[data[i + 6]] ^ t0[data[i + 7]];
  }
  for (; i < data.length; i++) crc = t0[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE((crc ^ -1) >>> 0);
  return bytes.toString("base64");
}

const CRC32C_TABLES = (() => {
  const tables = Array.from({ length: 8 }, () => new Int32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    tables[0][n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let t = 1; t < 8; t++) tables[t][n] = (tables[t - 1][n] >>> 8) ^ tables[0][tables[t - 1][n] & 0xff];
  }
  return tables;
})();

/** GCS orders names by their UTF-8 bytes. */
function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** GCS: 1-1024 bytes of UTF-8, no carriage return or line feed. */
function checkName(name: string): void {
  const length = Buffer.byteLength(name);
  if (length === 0 || length > 1024 || /[\r\n]/.test(name)) throw badRequest(`invalid object name ${JSON.stringify(name)}`);
}

function checkMatchConditions(object: StoredObject, conditions: Preconditions): void {
  if (conditions.ifGenerationMatch !== undefined && conditions.ifGenerationMatch !== object.generation) throw preconditionFailed();
  if (conditions.ifMetagenerationMatch !== undefined && conditions.ifMetagenerationMatch !== object.metageneration) {
    throw preconditionFailed();
  }
}

/** Writes answer 412 for every failed condition; a missing object has generation 0 and no metageneration. */
function checkWriteConditions(current: StoredObject | undefined, conditions: Preconditions): void {
  const generation = current?.generation ?? 0;
  const metageneration = current?.metageneration;
  if (
    (conditions.ifGenerationMatch !== undefined && conditions.ifGenerationMatch !== generation) ||
    (conditions.ifGenerationNotMatch !== undefined && conditions.ifGenerationNotMatch === generation) ||
    (conditions.ifMetagenerationMatch !== undefined && conditions.ifMetagenerationMatch !== metageneration) ||
    (conditions.ifMetagenerationNotMatch !== undefined && conditions.ifMetagenerationNotMatch === metageneration)
  ) {
    throw preconditionFailed();
  }
}
