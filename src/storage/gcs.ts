import { Storage, type Bucket, type File } from "@google-cloud/storage";
import type { Readable, Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { checkKey, checkPrefix, sortByKey, StorageError, type BlobStore, type ListedBlob } from "./blob-store.ts";
import { withRetries, type AttemptFailure, type RetryPolicy } from "./retry.ts";

export interface GcsLocation {
  bucket: string;
  /** "" or a key path (no leading or trailing `/`): every object name starts with `${prefix}/`. */
  prefix: string;
}

export interface GcsStoreOptions extends Partial<RetryPolicy> {
  /**
   * Another endpoint than https://storage.googleapis.com, e.g. an emulator's
   * `http://127.0.0.1:PORT`; the client then sends no credentials. Without it the client reads
   * STORAGE_EMULATOR_HOST, with the same effect, or else uses application default credentials.
   */
  apiEndpoint?: string;
  /** Uploads of at least this many bytes use a resumable session (see RESUMABLE_THRESHOLD). */
  resumableThreshold?: number;
}

/**
 * Defaults: a request that has not been answered in 20 s is tried again (GCS answers in tens of
 * milliseconds; 20 s is also enough to move a 100 MiB pack at 5 MiB/s), and a call gives up after
 * 60 s, well inside a git client's patience, so the server answers an error rather than nothing.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  deadlineMs: 60_000,
  attemptTimeoutMs: 20_000,
  initialBackoffMs: 100,
  maxBackoffMs: 5_000,
};
/** A readiness probe must answer fast; a store that does not answer in 5 s is not ready. */
const PING_DEADLINE_MS = 5_000;
/**
 * Below 16 MiB an upload is one multipart request: a retry resends at most 16 MiB (a fraction of a
 * second within a region), cheaper than the extra request that opens a resumable session on
 * every upload. From 16 MiB on, the session is opened once per call and a retry resumes it where
 * GCS stopped, sending 8 MiB chunks so a failure loses at most one chunk.
 */
const RESUMABLE_THRESHOLD = 16 * 1024 * 1024;
const RESUMABLE_CHUNK = 8 * 1024 * 1024;
/**
 * Transfers are checked end to end with MD5, which GCS keeps for every object not composed from
 * parts (ours never are): node's MD5 is native, the client's CRC32C is JavaScript at ~12 MB/s.
 */
const VALIDATION = "md5";
const LIST_PAGE = 1000;
const CONTENT_TYPE = "application/octet-stream";

/**
 * Blobs as objects of a Google Cloud Storage bucket (`gs://BUCKET/PREFIX`), through the official
 * client with its own retries off: every call follows this store's RetryPolicy instead, so how
 * long a call may take is known (retries on 408, 429, 5xx, lost connections and timeouts, with
 * jittered exponential backoff, within a deadline; then StorageError "storage.unavailable").
 * 401 and 403 are "storage.denied" at once.
 */
export class GcsBlobStore implements BlobStore {
  readonly location: GcsLocation;
  private readonly bucket: Bucket;
  private readonly policy: RetryPolicy;
  private readonly resumableThreshold: number;

  constructor(location: GcsLocation, options: GcsStoreOptions = {}) {
    const { apiEndpoint, resumableThreshold, ...retry } = options;
    this.location = location;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...definedFields(retry) };
    this.resumableThreshold = resumableThreshold ?? RESUMABLE_THRESHOLD;
    const storage = new Storage({
      ...(apiEndpoint && { apiEndpoint }),
      retryOptions: { autoRetry: false, maxRetries: 0 },
      timeout: this.policy.attemptTimeoutMs,
    });
    this.bucket = storage.bucket(location.bucket);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const file = this.file(key);
    return this.call(`get ${this.describe(key)}`, async (signal) => {
      try {
        return await readAll(file.createReadStream({ validation: VALIDATION }), signal);
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  /**
   * Create-only is `ifGenerationMatch: 0`. Keys are content addressed, so a 412 means the same
   * bytes are there, possibly written by an earlier attempt of this very call whose answer was
   * lost: "existed", not an error. The existing object is then freshened: a metadata update sets
   * its `updated` time, which is what list reports.
   */
  async createOnly(key: string, data: Uint8Array): Promise<boolean> {
    const file = this.file(key);
    const preconditionOpts = { ifGenerationMatch: 0 };
    const metadata = { contentType: CONTENT_TYPE };
    const resumable = data.length >= this.resumableThreshold;
    let sessionUri: string | undefined;
    return this.call(`create ${this.describe(key)}`, async (signal) => {
      try {
        if (resumable) sessionUri ??= (await file.createResumableUpload({ preconditionOpts, metadata }))[0];
        const upload = file.createWriteStream({
          resumable,
          ...(resumable && { uri: sessionUri, chunkSize: RESUMABLE_CHUNK }),
          preconditionOpts,
          metadata,
          validation: VALIDATION,
          timeout: this.policy.attemptTimeoutMs,
        });
        await writeAll(upload, data, signal);
        return true;
      } catch (error) {
        const status = statusOf(error);
        if (status === 412) {
          if (await this.freshen(file)) return false;
          // Deleted between the two calls (a garbage collection): the next attempt creates it.
          throw new Error(`${this.describe(key)} was deleted while being written again`);
        }
        if (sessionUri && (status === 404 || status === 410)) {
          sessionUri = undefined;
          throw new Error(`the resumable session ended (HTTP ${status}); starting another`);
        }
        throw error;
      }
    });
  }

  /**
   * Deletes the generation it found, never a newer one: an abandoned attempt that reaches GCS
   * late cannot delete the blob someone created again after this call returned.
   */
  async delete(key: string): Promise<void> {
    const file = this.file(key);
    await this.call(`delete ${this.describe(key)}`, async () => {
      try {
        const [metadata] = await file.getMetadata();
        await file.delete({ ifGenerationMatch: metadata.generation });
      } catch (error) {
        if (statusOf(error) === 404) return;
        if (statusOf(error) === 412) throw new Error("replaced while being deleted");
        throw error;
      }
    });
  }

  async list(prefix: string): Promise<ListedBlob[]> {
    checkPrefix(prefix);
    const base = this.objectName("");
    const listed: ListedBlob[] = [];
    let pageToken: string | undefined;
    do {
      const [files, next] = await this.call(`list ${this.describe(prefix)}*`, () =>
        this.bucket.getFiles({
          prefix: base + prefix,
          autoPaginate: false,
          maxResults: LIST_PAGE,
          ...(pageToken && { pageToken }),
        }),
      );
      for (const file of files) {
        const key = file.name.slice(base.length);
        if (isKey(key)) listed.push({ key, updated: new Date(file.metadata.updated!), size: Number(file.metadata.size) });
      }
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken);
    return sortByKey(listed);
  }

  /** Lists at most one object under the prefix: cheap, and needs only the permission every call needs. */
  async ping(): Promise<void> {
    const policy = { ...this.policy, deadlineMs: Math.min(this.policy.deadlineMs, PING_DEADLINE_MS) };
    await this.call(`ping ${this.describe("")}`, () => this.bucket.getFiles({ prefix: this.objectName(""), autoPaginate: false, maxResults: 1 }), policy);
  }

  private file(key: string): File {
    return this.bucket.file(this.objectName(checkKey(key)));
  }

  private objectName(key: string): string {
    return this.location.prefix === "" ? key : `${this.location.prefix}/${key}`;
  }

  private describe(key: string): string {
    return `gs://${this.location.bucket}/${this.objectName(key)}`;
  }

  /** Sets the object's `updated` time to now (by a metadata update); false when it does not exist. */
  private async freshen(file: File): Promise<boolean> {
    try {
      await file.setMetadata({ metadata: { freshened: new Date().toISOString() } });
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  private call<T>(call: string, attempt: (signal: AbortSignal) => Promise<T>, policy = this.policy): Promise<T> {
    return withRetries(`GCS ${call}`, policy, attempt, (error) => this.classify(error));
  }

  private classify(error: unknown): AttemptFailure {
    const status = statusOf(error);
    const reason = describeError(error);
    if (status === undefined || status === 408 || status === 429 || status >= 500) return { retry: true, reason };
    if (status === 401 || status === 403) {
      return { retry: false, error: new StorageError("storage.denied", `access to gs://${this.location.bucket} denied: ${reason}`) };
    }
    if (status === 404) {
      return { retry: false, error: new StorageError("storage.unavailable", `bucket gs://${this.location.bucket} not found: ${reason}`) };
    }
    return { retry: false, error: new StorageError("storage.unavailable", `GCS refused the request: ${reason}`) };
  }
}

/**
 * The HTTP status of a failed call, wherever the client put it (ApiError.code, a resumable
 * upload's `code`, a gaxios response); undefined when no answer came (connection or timeout).
 */
function statusOf(error: unknown): number | undefined {
  const candidate = error as { code?: unknown; status?: unknown; response?: { status?: unknown } } | null;
  for (const value of [candidate?.code, candidate?.response?.status, candidate?.status]) {
    if (typeof value === "number" && value >= 100 && value < 600) return value;
  }
  return undefined;
}

function describeError(error: unknown): string {
  const status = statusOf(error);
  const message = error instanceof Error ? error.message : String(error);
  return status === undefined ? message : `HTTP ${status}: ${message}`;
}

async function readAll(stream: Readable, signal: AbortSignal): Promise<Uint8Array> {
  const abort = () => stream.destroy(signal.reason as Error);
  signal.addEventListener("abort", abort);
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } finally {
    signal.removeEventListener("abort", abort);
  }
}

async function writeAll(stream: Writable, data: Uint8Array, signal: AbortSignal): Promise<void> {
  const abort = () => stream.destroy(signal.reason as Error);
  signal.addEventListener("abort", abort);
  try {
    stream.end(data);
    await finished(stream);
  } finally {
    signal.removeEventListener("abort", abort);
  }
}

/** Objects whose names are not keys were not written by a store: listings leave them out. */
function isKey(key: string): boolean {
  try {
    checkKey(key);
    return true;
  } catch {
    return false;
  }
}

function definedFields<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/**
 * GCS bucket naming rules: 3-63 characters of lowercase letters, digits, `-`, `_` and `.`
 * (up to 222 with dots, each dot-separated part at most 63), starting and ending with a letter
 * or digit, not an IP address, not starting with "goog" nor containing "google".
 */
export function checkBucketName(name: string): string | undefined {
  if (!/^[a-z0-9][a-z0-9._-]*[a-z0-9]$/.test(name)) {
    return "must be lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
  }
  if (name.length < 3 || name.length > (name.includes(".") ? 222 : 63)) return "must be 3-63 characters (222 with dots)";
  if (name.split(".").some((part) => part.length === 0 || part.length > 63)) return "dot-separated parts must be 1-63 characters";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return "must not be an IP address";
  if (name.startsWith("goog") || name.includes("google")) return "must not start with 'goog' or contain 'google'";
  return undefined;
}
