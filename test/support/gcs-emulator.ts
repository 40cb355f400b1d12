/**
 * A Google Cloud Storage JSON-API emulator for tests and benchmarks, exact where stategit relies
 * on GCS: generations, preconditions (412 `conditionNotMet`), the one-write-per-second rule per
 * object name (429 `rateLimitExceeded`), media, multipart and resumable uploads, paged listings;
 * plus faults that can be changed while it runs (latency, 503s, hung and cut calls).
 *
 * In a test:
 *   const emulator = await startGcsEmulator({ buckets: ["bucket"] });
 *   const storage = new Storage({ apiEndpoint: emulator.url });      // no credentials are used
 *   emulator.faults.failureRate = 0.5;                                // or emulator.setFaults({...})
 *   await emulator.stop();
 * or `withGcsEmulator()` below, which starts one for the file and stops it after; or
 * `spawnGcsEmulator({ buckets })` for one in a child process (faults then go over HTTP).
 * A stategit server in a child process reaches either through its environment:
 *   Bun.spawn([..., "serve", "--storage", "gs://bucket/prefix"], { env: { ...process.env, STORAGE_EMULATOR_HOST: emulator.url } })
 *
 * From a shell (prints `gcs-emulator listening on http://127.0.0.1:PORT`):
 *   bun test/support/gcs-emulator.ts --port 4443 --bucket bucket
 *   STORAGE_EMULATOR_HOST=http://127.0.0.1:4443 stategit serve --storage gs://bucket/prefix
 *   curl -X POST localhost:4443/_emulator/faults -d '{"failureRate":0.2,"latencyMs":30}'
 * Control routes: GET|POST /_emulator/faults (POST merges the fields given), GET /_emulator/stats,
 * POST /_emulator/reset (deletes every object, clears faults and stats; buckets stay).
 *
 * The official client, given `apiEndpoint` or the environment variable STORAGE_EMULATOR_HOST,
 * sends no credentials to an endpoint outside googleapis.com. With STORAGE_EMULATOR_HOST it
 * addresses JSON-API calls without the `/storage/v1` prefix (`/b/BUCKET/o/...`); both forms
 * are served.
 */
import { afterAll, beforeAll } from "bun:test";
import {
  badRequest,
  Buckets,
  etagOf,
  GcsHttpError,
  objectResource,
  optionalInteger,
  preconditionsOf,
  type ObjectPatch,
  type StoredObject,
} from "./gcs-emulator-buckets.ts";
import { bodyOf, Uploads } from "./gcs-emulator-uploads.ts";

export type { StoredObject } from "./gcs-emulator-buckets.ts";

/** Faults, applied to API calls (never to /_emulator/ routes) in this order. */
export interface GcsFaults {
  /** Faults apply only to calls whose `METHOD PATH?QUERY` contains this ("": every call), e.g. "PUT " or "uploadType=resumable". */
  onlyMatching: string;
  /** Milliseconds added before each call is answered. */
  latencyMs: number;
  /** The next N calls fail with `failureStatus`, whatever the rates say. */
  failNext: number;
  /** The share (0..1) of calls that fail with `failureStatus`. */
  failureRate: number;
  /** The status failed calls get: 503 (backendError) by default; 429, 500, 401, 403 are useful too. */
  failureStatus: number;
  /** The share of calls never answered: held until the client gives up or the emulator stops. */
  hangRate: number;
  /** The share of calls whose connection is cut after the status line, before the body. */
  cutRate: number;
  /** The next N calls are carried out, but their answers are held like hung calls: a write that happened, unbeknownst to the client. */
  loseAnswerNext: number;
  /** Milliseconds that must pass between two writes of one object name, else 429; GCS: 1000. 0: off. */
  objectWriteIntervalMs: number;
}

export interface GcsStats {
  requests: number;
  failed: number;
  hung: number;
  cut: number;
  lostAnswers: number;
  resumableSessions: number;
  /** Answers with status 412 (preconditions) and 429 (write rate), whatever caused them. */
  preconditionFailed: number;
  rateLimited: number;
}

export interface GcsEmulator {
  /** `http://127.0.0.1:PORT`: the value for `apiEndpoint` and STORAGE_EMULATOR_HOST. */
  url: string;
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  /** Live: changes apply to the next call. */
  faults: GcsFaults;
  setFaults(faults: Partial<GcsFaults>): void;
  stats: GcsStats;
  createBucket(name: string): void;
  /** Every stored object of `bucket` in name order (bytes, generations, metadata). */
  objects(bucket: string): StoredObject[];
  /** Deletes every object, clears faults and stats; buckets stay. */
  reset(): void;
  stop(): Promise<void>;
}

export interface GcsEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Buckets that exist from the start; more can be created through the API or createBucket. */
  buckets?: string[];
}

const NO_FAULTS: GcsFaults = {
  onlyMatching: "",
  latencyMs: 0,
  failNext: 0,
  failureRate: 0,
  failureStatus: 503,
  hangRate: 0,
  cutRate: 0,
  loseAnswerNext: 0,
  objectWriteIntervalMs: 0,
};
const NO_STATS: GcsStats = { requests: 0, failed: 0, hung: 0, cut: 0, lostAnswers: 0, resumableSessions: 0, preconditionFailed: 0, rateLimited: 0 };
const MAX_PAGE = 1000;
const FAILURES: Record<number, { reason: string; message: string }> = {
  401: { reason: "required", message: "Anonymous caller does not have storage.objects.get access." },
  403: { reason: "forbidden", message: "Caller does not have storage.objects.create access." },
  429: { reason: "rateLimitExceeded", message: "The rate of requests is too high." },
  500: { reason: "backendError", message: "Internal Error" },
  503: { reason: "backendError", message: "Service Unavailable" },
};

export async function startGcsEmulator(options: GcsEmulatorOptions = {}): Promise<GcsEmulator> {
  const faults: GcsFaults = { ...NO_FAULTS };
  const buckets = new Buckets(() => faults.objectWriteIntervalMs);
  for (const name of options.buckets ?? []) buckets.createBucket(name);
  const stats: GcsStats = { ...NO_STATS };
  let baseUrl = "";
  const uploads = new Uploads(buckets, () => baseUrl, stats);
  /** Settles held (hung) calls when the emulator stops. */
  const held = new Set<() => void>();

  const setFaults = (changes: Partial<GcsFaults>) => {
    for (const [field, value] of Object.entries(changes)) {
      const valid = field === "onlyMatching" ? typeof value === "string" : typeof value === "number" && value >= 0;
      if (!(field in NO_FAULTS) || !valid) {
        throw badRequest(`bad fault ${JSON.stringify(field)}: ${JSON.stringify(value)}`);
      }
    }
    Object.assign(faults, changes);
  };
  const reset = () => {
    buckets.clear();
    uploads.clear();
    Object.assign(faults, NO_FAULTS);
    Object.assign(stats, NO_STATS);
  };

  const hold = (request: Request) =>
    new Promise<Response>((resolve) => {
      const release = () => {
        held.delete(release);
        resolve(new Response(null, { status: 503 }));
      };
      held.add(release);
      request.signal.addEventListener("abort", release);
    });

  /** Headers and status go out, then the body stream fails: the client sees the connection end early. */
  const cut = () =>
    new Response(
      new ReadableStream({
        pull: (controller) => controller.error(new Error("cut by the GCS emulator")),
      }),
      { status: 200, headers: { "content-type": "application/json", "content-length": "1024" } },
    );

  const injectFault = async (request: Request): Promise<Response | undefined> => {
    if (faults.latencyMs > 0) await Bun.sleep(faults.latencyMs);
    if (faults.failNext > 0 || Math.random() < faults.failureRate) {
      if (faults.failNext > 0) faults.failNext -= 1;
      stats.failed += 1;
      const failure = FAILURES[faults.failureStatus] ?? { reason: "backendError", message: "Injected failure" };
      return new GcsHttpError(faults.failureStatus, failure.reason, failure.message).toResponse();
    }
    if (Math.random() < faults.hangRate) {
      stats.hung += 1;
      return hold(request);
    }
    if (Math.random() < faults.cutRate) {
      stats.cut += 1;
      return cut();
    }
    return undefined;
  };

  const api = async (request: Request, url: URL): Promise<Response> => {
    const route = parseRoute(url.pathname);
    const method = request.method;
    if (!route) return new GcsHttpError(404, "notFound", `no such route: ${method} ${url.pathname}`).toResponse();
    const query = url.searchParams;
    if (route.kind === "upload") {
      return method === "POST" ? uploads.insert(request, route.bucket, query) : uploads.session(request, query.get("upload_id") ?? "");
    } else if (route.kind === "buckets") {
      if (method === "POST") {
        const { name } = (await bodyOf(request).json()) as { name?: string };
        if (typeof name !== "string" || !/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(name)) throw badRequest("invalid bucket name");
        if (!buckets.createBucket(name)) throw new GcsHttpError(409, "conflict", "Your previous request to create the named bucket succeeded and you already own it.");
        return Response.json(bucketResource(name));
      }
    } else if (route.kind === "bucket") {
      if (method === "GET") {
        buckets.checkBucket(route.bucket);
        return Response.json(bucketResource(route.bucket));
      }
    } else if (route.kind === "objects") {
      if (method === "GET") return list(route.bucket, query);
    } else {
      const conditions = preconditionsOf(query);
      const generation = optionalInteger(query, "generation");
      if (method === "GET" || method === "HEAD") {
        const object = buckets.read(route.bucket, route.name, conditions, generation);
        if (object === "not modified") return new Response(null, { status: 304 });
        if (query.get("alt") === "media" || route.download) return media(request, object);
        return Response.json(objectResource(object, baseUrl));
      }
      if (method === "PATCH" || method === "PUT") {
        const patch = (await bodyOf(request).json()) as ObjectPatch;
        return Response.json(objectResource(buckets.patch(route.bucket, route.name, patch, conditions), baseUrl));
      }
      if (method === "DELETE") {
        buckets.delete(route.bucket, route.name, conditions, generation);
        return new Response(null, { status: 204 });
      }
    }
    return new GcsHttpError(405, "methodNotAllowed", `${method} is not allowed on ${url.pathname}`).toResponse();
  };

  const list = (bucket: string, query: URLSearchParams): Response => {
    const maxResults = Math.min(optionalInteger(query, "maxResults") ?? MAX_PAGE, MAX_PAGE);
    if (maxResults < 1) throw badRequest("maxResults must be at least 1");
    const page = buckets.list(bucket, {
      prefix: query.get("prefix") ?? "",
      delimiter: query.get("delimiter") || undefined,
      startOffset: query.get("startOffset") || undefined,
      endOffset: query.get("endOffset") || undefined,
      maxResults,
      pageToken: query.get("pageToken") || undefined,
    });
    return Response.json({
      kind: "storage#objects",
      ...(page.nextPageToken && { nextPageToken: page.nextPageToken }),
      ...(page.prefixes.length > 0 && { prefixes: page.prefixes }),
      items: page.items.map((object) => objectResource(object, baseUrl)),
    });
  };

  const control = async (request: Request, url: URL): Promise<Response> => {
    const route = `${request.method} ${url.pathname}`;
    if (route === "GET /_emulator/faults") return Response.json(faults);
    if (route === "POST /_emulator/faults") {
      setFaults((await request.json()) as Partial<GcsFaults>);
      return Response.json(faults);
    }
    if (route === "GET /_emulator/stats") return Response.json(stats);
    if (route === "POST /_emulator/reset") {
      reset();
      return Response.json(faults);
    }
    return new GcsHttpError(404, "notFound", `no such control route: ${route}`).toResponse();
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: options.port ?? 0,
    // Hung calls must stay open until the client gives up.
    idleTimeout: 0,
    fetch: async (request) => {
      const url = new URL(request.url);
      let response: Response;
      try {
        if (url.pathname.startsWith("/_emulator/")) return await control(request, url);
        stats.requests += 1;
        const faulty = `${request.method} ${url.pathname}${url.search}`.includes(faults.onlyMatching);
        response = (faulty && (await injectFault(request))) || (await api(request, url));
        if (faulty && faults.loseAnswerNext > 0) {
          faults.loseAnswerNext -= 1;
          stats.lostAnswers += 1;
          return hold(request);
        }
      } catch (error) {
        response = toErrorResponse(error);
      }
      if (response.status === 412) stats.preconditionFailed += 1;
      if (response.status === 429) stats.rateLimited += 1;
      return response;
    },
  });
  baseUrl = `http://127.0.0.1:${server.port}`;

  return {
    url: baseUrl,
    host: `127.0.0.1:${server.port}`,
    port: server.port!,
    faults,
    setFaults,
    stats,
    createBucket: (name) => void buckets.createBucket(name),
    objects: (bucket) => [...buckets.objects(bucket)],
    reset,
    stop: async () => {
      for (const release of [...held]) release();
      await server.stop(true);
    },
  };
}

/**
 * Starts an emulator with `buckets` before the tests of the calling file and stops it after them.
 * Returns a getter for use inside tests; objects and faults persist between tests unless a test
 * file resets them, e.g. `afterEach(() => emulator().reset())`.
 */
export function withGcsEmulator(buckets: string[] = ["stategit-test"]): () => GcsEmulator {
  let emulator: GcsEmulator | undefined;
  beforeAll(async () => {
    emulator = await startGcsEmulator({ buckets });
  });
  afterAll(async () => {
    await emulator?.stop();
  });
  return () => {
    if (!emulator) throw new Error("withGcsEmulator(): the emulator starts in beforeAll; call the getter inside tests");
    return emulator;
  };
}

/** An emulator in a child process, driven over its control routes. */
export interface GcsEmulatorProcess {
  url: string;
  host: string;
  setFaults(faults: Partial<GcsFaults>): Promise<GcsFaults>;
  stats(): Promise<GcsStats>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the emulator as a child process (`bun test/support/gcs-emulator.ts`), for benchmarks and
 * tests whose emulator must not share the test's event loop.
 */
export async function spawnGcsEmulator(options: GcsEmulatorOptions = {}): Promise<GcsEmulatorProcess> {
  const args = ["--port", String(options.port ?? 0), ...(options.buckets ?? []).flatMap((bucket) => ["--bucket", bucket])];
  const child = Bun.spawn([process.execPath, import.meta.path, ...args], { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  let printed = "";
  while (!printed.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the GCS emulator exited before listening (status ${await child.exited})`);
    printed += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const url = /listening on (http:\/\/\S+)/.exec(printed)?.[1];
  if (!url) throw new Error(`unexpected output from the GCS emulator: ${printed}`);
  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}/_emulator/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!response.ok) throw new Error(`GCS emulator ${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  return {
    url,
    host: new URL(url).host,
    setFaults: (faults) => control("POST", "faults", faults) as Promise<GcsFaults>,
    stats: () => control("GET", "stats") as Promise<GcsStats>,
    reset: async () => void (await control("POST", "reset")),
    stop: async () => {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

type Route =
  | { kind: "upload"; bucket: string }
  | { kind: "buckets" }
  | { kind: "bucket"; bucket: string }
  | { kind: "objects"; bucket: string }
  | { kind: "object"; bucket: string; name: string; download: boolean };

/**
 * `/upload/storage/v1/b/B/o`, `[/storage/v1]/b[/B[/o[/NAME]]]` and `/download/storage/v1/b/B/o/NAME`.
 * The name stays percent-encoded in the path (it may contain `/` as %2F), so it is decoded last.
 */
function parseRoute(pathname: string): Route | undefined {
  const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(pathname);
  if (upload) return { kind: "upload", bucket: decodeURIComponent(upload[1]) };
  const api = /^(\/download)?(?:\/storage\/v1)?\/b(?:\/([^/]+)(?:\/(o)(?:\/(.+))?)?)?\/?$/.exec(pathname);
  if (!api) return undefined;
  const [, download, bucket, objects, name] = api;
  if (bucket === undefined) return download ? undefined : { kind: "buckets" };
  if (objects === undefined) return download ? undefined : { kind: "bucket", bucket: decodeURIComponent(bucket) };
  if (name === undefined) return download ? undefined : { kind: "objects", bucket: decodeURIComponent(bucket) };
  return { kind: "object", bucket: decodeURIComponent(bucket), name: decodeURIComponent(name), download: download !== undefined };
}

function media(request: Request, object: StoredObject): Response {
  const headers: Record<string, string> = {
    "content-type": object.contentType,
    etag: etagOf(object),
    "x-goog-generation": String(object.generation),
    "x-goog-metageneration": String(object.metageneration),
    "x-goog-stored-content-length": String(object.data.length),
    "x-goog-stored-content-encoding": "identity",
    "x-goog-hash": `crc32c=${object.crc32c},md5=${object.md5Hash}`,
  };
  const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.get("range") ?? "");
  if (range && (range[1] !== "" || range[2] !== "")) {
    const size = object.data.length;
    const first = range[1] === "" ? Math.max(0, size - Number(range[2])) : Number(range[1]);
    const last = range[1] === "" || range[2] === "" ? size - 1 : Math.min(Number(range[2]), size - 1);
    if (first >= size || first > last) {
      return new GcsHttpError(416, "requestedRangeNotSatisfiable", "The requested range cannot be satisfied.").toResponse();
    }
    delete headers["x-goog-hash"];
    headers["content-range"] = `bytes ${first}-${last}/${size}`;
    return new Response(object.data.subarray(first, last + 1), { status: 206, headers });
  }
  return new Response(object.data, { headers });
}

function bucketResource(name: string) {
  return { kind: "storage#bucket", id: name, name, location: "US", storageClass: "STANDARD", metageneration: "1" };
}

function toErrorResponse(error: unknown): Response {
  if (error instanceof GcsHttpError) return error.toResponse();
  if (error instanceof SyntaxError) return badRequest(`malformed JSON: ${error.message}`).toResponse();
  return new GcsHttpError(500, "backendError", String(error)).toResponse();
}

if (import.meta.main) {
  const { values } = (await import("node:util")).parseArgs({
    options: { port: { type: "string", default: "0" }, bucket: { type: "string", multiple: true, default: [] } },
  });
  const emulator = await startGcsEmulator({ port: Number(values.port), buckets: values.bucket });
  console.log(`gcs-emulator listening on ${emulator.url}`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => void emulator.stop().then(() => process.exit(0)));
  }
}
