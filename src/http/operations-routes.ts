import type { Hono } from "hono";
import type { AppEnv } from "./env.ts";
import type { Metrics } from "./metrics.ts";
import { checkReadiness, type ReadinessCheck } from "./readiness.ts";

export interface OperationsRoutesOptions {
  metrics: Metrics;
  readinessChecks: readonly ReadinessCheck[];
}

/**
 * What load balancers, orchestrators and Prometheus ask, unauthenticated (DESIGN.md, Contract,
 * "Operations"): GET /healthz (the process answers), GET /readyz (200 when every dependency
 * answers, else 503 with each one's outcome), GET /metrics (Prometheus text format).
 */
export function mountOperationsRoutes(app: Hono<AppEnv>, options: OperationsRoutesOptions): void {
  app.get("/healthz", (c) => c.text("ok\n"));
  app.get("/readyz", async (c) => {
    const readiness = await checkReadiness(options.readinessChecks);
    return c.json(readiness, readiness.ready ? 200 : 503, { "Cache-Control": "no-store" });
  });
  app.get("/metrics", (c) => {
    const { body, contentType } = options.metrics.text();
    return c.body(body, 200, { "Content-Type": contentType, "Cache-Control": "no-store" });
  });
}
