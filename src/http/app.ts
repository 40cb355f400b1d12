import { Hono } from "hono";
import { apiRoutes } from "./api-routes.ts";
import { authenticate, jsonChallenge, type Authenticator } from "./auth.ts";
import type { AppEnv } from "./env.ts";
import { isUnavailable, RETRY_AFTER_SECONDS } from "./errors.ts";
import { GIT_BASES, mountGitRoutes, type GitRepositories } from "./git-routes.ts";
import type { MemoryApi } from "./memory-api.ts";

export interface AppOptions {
  accounts: Authenticator;
  repositories: GitRepositories;
  trustOrgHeader: boolean;
  maxBodyBytes: number;
  /** The JSON API of blocks, files, history and search; absent, only git is served. */
  memoryApi?: MemoryApi;
  /** Where unexpected errors are reported (defaults to stderr). */
  logError?: (message: string) => void;
}

export function createApp(options: AppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const logError = options.logError ?? ((message: string) => process.stderr.write(`${message}\n`));
  app.onError((error, c) => {
    logError(`stategit: ${c.req.method} ${new URL(c.req.url).pathname}: ${error.stack ?? error.message}`);
    if (isUnavailable(error)) {
      return c.text(`service unavailable: ${error.message}\n`, 503, { "Retry-After": String(RETRY_AFTER_SECONDS) });
    }
    return c.text("internal server error\n", 500);
  });
  app.notFound((c) => c.text("not found\n", 404));
  app.get("/healthz", (c) => c.text("ok\n"));
  for (const base of GIT_BASES) app.use(`${base}/:agent/state.git/*`, authenticate(options));
  mountGitRoutes(app, options);
  if (options.memoryApi) {
    for (const path of ["/v1/agents/*", "/v1/search"]) app.use(path, authenticate(options, jsonChallenge));
    app.route("/v1", apiRoutes(options.memoryApi, logError));
  }
  return app;
}
