import { Hono } from "hono";
import { authenticate, type Authenticator } from "./auth.ts";
import type { AppEnv } from "./env.ts";
import { mountGitRoutes, type GitRepositories } from "./git-routes.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import { mountOperationsRoutes } from "./operations-routes.ts";
import type { ReadinessCheck } from "./readiness.ts";
import { requestLog } from "./request-log.ts";

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
}

export function createApp(options: AppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { logger } = options;
  app.onError((error, c) => {
    logger.log("error", "unexpected error", { request_id: c.get("record")?.id, method: c.req.method, path: c.req.path, error: error.stack ?? error.message });
    return c.text("internal server error\n", 500);
  });
  app.notFound((c) => c.text("not found\n", 404));
  app.use(requestLog(options));
  mountOperationsRoutes(app, options);
  app.use("/v1/git/*", authenticate(options));
  app.use("/git/*", authenticate(options));
  mountGitRoutes(app, options);
  return app;
}
