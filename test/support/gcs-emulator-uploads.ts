import {
  badRequest,
  crc32cOf,
  GcsHttpError,
  md5Of,
  objectResource,
  preconditionsOf,
  type Buckets,
  type Preconditions,
  type StoredObject,
} from "./gcs-emulator-buckets.ts";

/**
 * The three ways the GCS emulator (gcs-emulator.ts) takes bytes, on
 * `/upload/storage/v1/b/BUCKET/o`: `uploadType=media` (the body is the object), `multipart`
 * (multipart/related: JSON metadata, then the bytes) and `resumable` (a POST opens a session
 * whose URL takes the bytes in one or more PUTs).
 */
export class Uploads {
  private readonly sessions = new Map<string, UploadSession>();

  constructor(
    private readonly buckets: Buckets,
    /** `http://127.0.0.1:PORT`, for the links in resources and session URLs. */
    private readonly baseUrl: () => string,
    /** Counts sessions opened: a retry that resumes one opens none. */
    private readonly stats: { resumableSessions: number },
  ) {}

  clear(): void {
    this.sessions.clear();
  }

  /** A POST: a whole upload (media, multipart) or the start of a resumable one. */
  async insert(request: Request, bucket: string, query: URLSearchParams): Promise<Response> {
    const conditions = preconditionsOf(query);
    const uploadType = query.get("uploadType");
    const body = await bodyOf(request).bytes();
    if (uploadType === "media") {
      const name = requiredName(query.get("name"));
      const contentType = request.headers.get("content-type") ?? DEFAULT_CONTENT_TYPE;
      checkHashHeader(request, body);
      return this.answer(this.buckets.insert(bucket, name, body, contentType, undefined, conditions));
    }
    if (uploadType === "multipart") {
      const [metadataPart, mediaPart] = parseMultipart(request.headers.get("content-type") ?? "", body);
      const metadata = JSON.parse(new TextDecoder().decode(metadataPart.body)) as UploadMetadata;
      const name = requiredName(metadata.name ?? query.get("name"));
      const contentType = metadata.contentType ?? mediaPart.contentType ?? DEFAULT_CONTENT_TYPE;
      checkHashes(metadata, mediaPart.body);
      return this.answer(this.buckets.insert(bucket, name, mediaPart.body, contentType, metadata.metadata, conditions));
    }
    if (uploadType === "resumable") {
      const metadata = (body.length > 0 ? JSON.parse(new TextDecoder().decode(body)) : {}) as UploadMetadata;
      const name = requiredName(metadata.name ?? query.get("name"));
      this.buckets.checkBucket(bucket);
      const id = crypto.randomUUID();
      this.stats.resumableSessions += 1;
      this.sessions.set(id, {
        bucket,
        name,
        contentType: metadata.contentType ?? request.headers.get("x-upload-content-type") ?? DEFAULT_CONTENT_TYPE,
        metadata: metadata.metadata,
        conditions,
        received: [],
        receivedBytes: 0,
        started: Date.now(),
      });
      const location = `${this.baseUrl()}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&upload_id=${id}`;
      return new Response(null, { status: 200, headers: { location } });
    }
    throw badRequest(`unsupported uploadType ${JSON.stringify(uploadType)}`);
  }

  /** A PUT (bytes or a status query) or DELETE (cancel) on a resumable session's URL. */
  async session(request: Request, uploadId: string): Promise<Response> {
    const session = this.sessions.get(uploadId);
    if (!session || Date.now() - session.started > SESSION_LIFETIME_MS) {
      throw new GcsHttpError(404, "notFound", "No such upload session.");
    }
    if (request.method === "PUT") return this.put(request, session);
    if (request.method === "DELETE") {
      this.sessions.delete(uploadId);
      return new Response(null, { status: 499 });
    }
    throw new GcsHttpError(405, "methodNotAllowed", `${request.method} is not allowed on an upload session`);
  }

  /**
   * One PUT of a resumable session: `Content-Range: bytes FIRST-LAST/TOTAL` (LAST `*`: the body
   * runs to the end of the upload; TOTAL `*`: not known yet) or `bytes *\/TOTAL` (a status
   * query, or the end when TOTAL bytes arrived). Answers 308 with `Range: bytes=0-N` until the
   * upload is complete, then the object. A PUT that starts below the bytes already persisted
   * overlaps them; its overlapping bytes are dropped, as GCS does.
   */
  private async put(request: Request, session: UploadSession): Promise<Response> {
    if (session.done) return this.answer(session.done);
    const range = /^bytes (?:(\d+)-(\d+|\*)|\*)\/(\d+|\*)$/.exec(request.headers.get("content-range") ?? "bytes */*");
    if (!range) throw badRequest("bad Content-Range");
    const body = await bodyOf(request).bytes();
    const total = range[3] === "*" ? undefined : Number(range[3]);
    if (range[1] !== undefined) {
      const first = Number(range[1]);
      if (range[2] !== "*" && Number(range[2]) - first + 1 !== body.length) throw badRequest("Content-Range does not match the body's length");
      if (first > session.receivedBytes) throw badRequest(`upload starts at ${first} but ${session.receivedBytes} bytes were persisted`);
      const fresh = body.subarray(session.receivedBytes - first);
      session.received.push(fresh);
      session.receivedBytes += fresh.length;
      if (range[2] === "*" && total === undefined) return this.finish(request, session);
    }
    if (total !== undefined && session.receivedBytes >= total) {
      if (session.receivedBytes > total) throw badRequest("more bytes than the declared total");
      return this.finish(request, session);
    }
    const headers: Record<string, string> = session.receivedBytes > 0 ? { range: `bytes=0-${session.receivedBytes - 1}` } : {};
    return new Response(null, { status: 308, headers });
  }

  /** Preconditions are checked again here, when the object comes into being. */
  private finish(request: Request, session: UploadSession): Response {
    const data = Buffer.concat(session.received);
    checkHashHeader(request, data);
    const { bucket, name, contentType, metadata, conditions } = session;
    session.done = this.buckets.insert(bucket, name, data, contentType, metadata, conditions);
    return this.answer(session.done);
  }

  private answer(object: StoredObject): Response {
    return Response.json(objectResource(object, this.baseUrl()));
  }
}

/** The client gzips some request bodies (`Content-Encoding: gzip`), as GCS allows. */
export function bodyOf(request: Request): Response {
  const body = request.body;
  if (request.headers.get("content-encoding") !== "gzip" || !body) return new Response(body);
  return new Response(body.pipeThrough(new DecompressionStream("gzip")));
}

const DEFAULT_CONTENT_TYPE = "application/octet-stream";
/** Resumable sessions are forgotten a week after they start, as GCS does. */
const SESSION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

interface UploadSession {
  bucket: string;
  name: string;
  contentType: string;
  metadata: Record<string, string> | undefined;
  conditions: Preconditions;
  received: Uint8Array[];
  receivedBytes: number;
  started: number;
  done?: StoredObject;
}

interface UploadMetadata {
  name?: string;
  contentType?: string;
  metadata?: Record<string, string>;
  md5Hash?: string;
  crc32c?: string;
}

function requiredName(name: string | null | undefined): string {
  if (!name) throw new GcsHttpError(400, "required", "Required parameter: name");
  return name;
}

/** Uploads may carry `X-Goog-Hash: crc32c=...,md5=...`; GCS refuses bytes that do not match. */
function checkHashHeader(request: Request, data: Uint8Array): void {
  const header = request.headers.get("x-goog-hash");
  if (!header) return;
  const hashes: UploadMetadata = {};
  for (const part of header.split(",")) {
    const [kind, value] = part.trim().split(/=(.*)/s);
    if (kind === "crc32c") hashes.crc32c = value;
    if (kind === "md5") hashes.md5Hash = value;
  }
  checkHashes(hashes, data);
}

function checkHashes(hashes: UploadMetadata, data: Uint8Array): void {
  if (hashes.crc32c !== undefined && hashes.crc32c !== crc32cOf(data)) {
    throw badRequest(`Provided CRC32C "${hashes.crc32c}" doesn't match calculated CRC32C "${crc32cOf(data)}".`);
  }
  if (hashes.md5Hash !== undefined && hashes.md5Hash !== md5Of(data)) {
    throw badRequest("Provided MD5 hash doesn't match calculated MD5 hash.");
  }
}

/** The two parts of a `multipart/related` upload: JSON metadata, then the bytes. */
function parseMultipart(contentType: string, body: Uint8Array): { contentType?: string; body: Uint8Array }[] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!/^multipart\/related/i.test(contentType) || !boundary) throw badRequest("expected multipart/related with a boundary");
  const data = Buffer.from(body.buffer, body.byteOffset, body.length);
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`);
  const parts: { contentType?: string; body: Uint8Array }[] = [];
  let at = data.indexOf(delimiter);
  while (at >= 0) {
    const afterDelimiter = at + delimiter.length;
    if (data.subarray(afterDelimiter, afterDelimiter + 2).toString() === "--") break;
    const headersEnd = data.indexOf("\r\n\r\n", afterDelimiter);
    const next = data.indexOf(nextDelimiter, headersEnd);
    if (headersEnd < 0 || next < 0) throw badRequest("malformed multipart body");
    const headers = data.subarray(afterDelimiter, headersEnd).toString();
    parts.push({ contentType: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1], body: data.subarray(headersEnd + 4, next) });
    at = next + 2;
  }
  if (parts.length !== 2) throw badRequest(`a multipart upload has 2 parts, not ${parts.length}`);
  return parts;
}
