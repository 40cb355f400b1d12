import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { AppEnv } from "./env.ts";
import type { Logger } from "./logger.ts";
import type { Metrics, Operation } from "./metrics.ts";

/** What the handlers tell the request log about their request (the context variable `record`). */
export interface RequestRecord {
  /** The client's `X-Request-Id` when it sent a usable one, else a new UUID; echoed in the answer. */
  readonly id: string;
  /** The agent the request names, once a route has validated it. */
  agent?: string;
  /** The shared repository a git request names (`{agent}/repositories/{name}.git`). */
  repository?: string;
  /** The git service, e.g. `git-upload-pack`. */
  service?: string;
  /** Why the request was refused: an error answer's message, an `ERR` packet, a push's `ng` reasons. */
  refusal?: string;
  /** Request body bytes read; used when the request had no Content-Length. */
  bytesIn?: number;
  /** Response body bytes, when the handler knows them; otherwise the body is counted as it is sent. */
  bytesOut?: number;
}

export interface RequestLogOptions {
  logger: Logger;
  metrics: Metrics;
}

/** Visible ASCII only, so a client's id cannot forge log fields or response headers. */
const CLIENT_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * Gives each request an id, and when its answer has been sent (a streamed body to its last
 * byte), writes one JSON log line and counts it in the metrics.
 */
export function requestLog(options: RequestLogOptions): MiddlewareHandler<AppEnv> {
  const { logger, metrics } = options;
  return async (c, next) => {
    const start = performance.now();
    const given = c.req.header("x-request-id");
    const record: RequestRecord = { id: given !== undefined && CLIENT_REQUEST_ID.test(given) ? given : crypto.randomUUID() };
    c.set("record", record);
    if (logger.enabled("debug")) logger.log("debug", "request started", { request_id: record.id, method: c.req.method, path: c.req.path });
    await next();

    const response = c.res;
    response.headers.set("X-Request-Id", record.id);
    const finish = (bytesOut: number, aborted: boolean) => {
      const route = routePath(c);
      const contentLength = c.req.header("content-length");
      const bytesIn = contentLength === undefined ? (record.bytesIn ?? 0) : Number(contentLength) || 0;
      const seconds = (performance.now() - start) / 1000;
      metrics.request({ route, method: c.req.method, status: response.status, operation: operationOf(route), seconds, bytesIn, bytesOut });
      const level = response.status >= 500 ? "error" : "info";
      if (!logger.enabled(level)) return;
      logger.log(level, "request", {
        request_id: record.id,
        method: c.req.method,
        path: c.req.path,
        status: response.status,
        duration_ms: Math.round(seconds * 1e6) / 1000,
        bytes_in: bytesIn,
        bytes_out: bytesOut,
        org: c.get("org"),
        agent: record.agent,
        repository: record.repository,
        service: record.service,
        refusal: record.refusal,
        aborted: aborted || undefined,
      });
    };
    if (record.bytesOut !== undefined || response.body === null) finish(record.bytesOut ?? 0, false);
    else c.res = new Response(countedBody(response.body, finish), response);
  };
}

/** The kind of request its route is: git routes by their last segment, the JSON API under /v1/. */
export function operationOf(route: string): Operation {
  if (route.endsWith("/info/refs")) return "info-refs";
  if (route.endsWith("/git-upload-pack")) return "upload-pack";
  if (route.endsWith("/git-receive-pack")) return "receive-pack";
  // Event streams last minutes to hours: apart, so that they do not swamp the API's latencies.
  if (["/v1/events", "/v1/agents/:agent/events", "/v1/repositories/:id/events"].includes(route)) return "events";
  return route.startsWith("/v1/") && !route.startsWith("/v1/git/") ? "api" : "other";
}

/** `body` passed through, its bytes counted; `done` runs once, at its end or when the client goes away. */
function countedBody(body: ReadableStream<Uint8Array>, done: (bytes: number, aborted: boolean) => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let bytes = 0;
  let finished = false;
  const finish = (aborted: boolean) => {
    if (finished) return;
    finished = true;
    done(bytes, aborted);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (error) {
        finish(true);
        controller.error(error);
        return;
      }
      if (next.done) {
        finish(false);
        controller.close();
        return;
      }
      bytes += next.value.byteLength;
      controller.enqueue(next.value);
    },
    async cancel(reason) {
      finish(true);
      await reader.cancel(reason);
    },
  });
}
