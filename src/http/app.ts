import { Hono } from "hono";
import { getPath } from "hono/utils/url";
import { apiRoutes, type EventRoutesOptions } from "./api-routes.ts";
import { authenticate, jsonChallenge, type Authenticator } from "./auth.ts";
import type { AppEnv } from "./env.ts";
import { isUnavailable, RETRY_AFTER_SECONDS } from "./errors.ts";
import { GIT_BASES, mountGitRoutes, routingPath, type GitRepositories } from "./git-routes.ts";
import type { PackJobRunner } from "../protocol/pack-job.ts";
import type { Logger } from "./logger.ts";
import type { MemoryApi } from "./memory-api.ts";
import type { Metrics } from "./metrics.ts";
import { mountOperationsRoutes } from "./operations-routes.ts";
import type { ReadinessCheck } from "./readiness.ts";
import { requestLog } from "./request-log.ts";
import { uiRoutes, type UiOptions } from "./ui/routes.tsx";

export interface AppOptions {
  accounts: Authenticator;
  repositories: GitRepositories;
  trustOrgHeader: boolean;
  maxBodyBytes: number;
  /** The request log and unexpected errors go here. */
  logger: Logger;
  metrics: Metrics;
  /** What GET /readyz checks (the database, storage). */
  readinessChecks: readonly ReadinessCheck[];
  /** Where the packs of clones and large fetches are made (the worker pool); absent, on the request thread. */
  offload?: PackJobRunner;
  /** The JSON API of blocks, files, history and search; absent, only git is served. */
  memoryApi?: MemoryApi;
  /** The web page under /ui/; absent, there is none. */
  ui?: UiOptions;
  /** The change events' SSE routes (with the JSON API); absent, they are not served. */
  events?: EventRoutesOptions;
}

export function createApp(options: AppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>({ getPath: (request) => routingPath(getPath(request)) });
  const { logger } = options;
  app.onError((error, c) => {
    if (isUnavailable(error)) {
      logger.log("warn", "dependency unavailable", { request_id: c.get("record")?.id, method: c.req.method, path: c.req.path, error: error.message });
      return c.text(`service unavailable: ${error.message}\n`, 503, { "Retry-After": String(RETRY_AFTER_SECONDS) });
    }
    logger.log("error", "unexpected error", { request_id: c.get("record")?.id, method: c.req.method, path: c.req.path, error: error.stack ?? error.message });
    return c.text("internal server error\n", 500);
  });
  app.notFound((c) => c.text("not found\n", 404));
  app.use(requestLog(options));
  mountOperationsRoutes(app, options);
  for (const base of GIT_BASES) for (const repository of ["state.git", "repositories"]) app.use(`${base}/:agent/${repository}/*`, authenticate(options));
  mountGitRoutes(app, options);
  if (options.memoryApi) {
    for (const path of ["/v1/agents/*", "/v1/search", "/v1/events", "/v1/repositories", "/v1/repositories/*"]) app.use(path, authenticate(options, jsonChallenge));
    app.route("/v1", apiRoutes(options.memoryApi, logger, options.events));
  }
  if (options.ui) app.route("/", uiRoutes(options.ui));
  return app;
}
