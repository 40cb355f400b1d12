import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RepositoryCacheMetrics } from "../repo/cache-metrics.ts";
import type { CallObserver } from "./call-timing.ts";

/**
 * The server's metrics in Prometheus' text format (GET /metrics), with prom-client. Lower layers
 * never import this module: they are handed the small observer interfaces it implements
 * (RepositoryCacheMetrics, CallObserver, WorkerPoolMetrics).
 */

/** What a request was, for the duration and byte metrics (its route decides). */
export type Operation = "info-refs" | "upload-pack" | "receive-pack" | "api" | "other";

const OPERATIONS: readonly Operation[] = ["info-refs", "upload-pack", "receive-pack", "api", "other"];

/** A finished request, as the request log middleware measured it. */
export interface RequestSample {
  /** The route that answered, as registered (`/v1/git/:agent/state.git/info/refs`): bounded, unlike URLs. */
  route: string;
  method: string;
  status: number;
  operation: Operation;
  seconds: number;
  bytesIn: number;
  bytesOut: number;
}

/** What a pool of worker threads reports (the pool itself belongs to the layer that packs objects). */
export interface WorkerPoolMetrics {
  /** Jobs waiting for a worker, now. */
  queueLength(jobs: number): void;
  /** Time a worker spent on one job. */
  busy(seconds: number): void;
}

// Requests span a cached ls-refs (well under a millisecond) to a large clone or push (a minute).
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
// A local stat or SQLite read takes microseconds; a GCS or PostgreSQL round trip milliseconds.
const CALL_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

export interface MetricsOptions {
  version: string;
  commit: string;
  /** Also export the process's CPU, memory, event-loop and GC metrics (prom-client's defaults). */
  processMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  readonly repositoryCache: RepositoryCacheMetrics;
  readonly storageCalls: CallObserver;
  readonly databaseCalls: CallObserver;
  readonly workerPool: WorkerPoolMetrics;

  private readonly requests = new Counter({ name: "stategit_http_requests_total", help: "HTTP requests answered, by route, method and status", labelNames: ["route", "method", "status"], registers: [this.registry] });
  /** Children of `requests` by "route method status": prom-client hashes label objects on every call otherwise. */
  private readonly requestCounters = new Map<string, Counter.Internal>();
  private readonly byOperation: Record<Operation, { duration: Histogram.Internal<string>; bytesIn: Counter.Internal; bytesOut: Counter.Internal }>;
  private readonly objectsSent = new Counter({ name: "stategit_git_objects_sent_total", help: "Objects in the packs sent to fetches and clones", registers: [this.registry] });
  private readonly objectsReceived = new Counter({ name: "stategit_git_objects_received_total", help: "Objects in the packs of pushes that were unpacked", registers: [this.registry] });

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    const duration = new Histogram({ name: "stategit_http_request_duration_seconds", help: "Time from a request's arrival to the last byte of its answer, by operation", labelNames: ["operation"], buckets: REQUEST_BUCKETS, registers });
    const bytesIn = new Counter({ name: "stategit_http_request_bytes_total", help: "Request body bytes received, by operation", labelNames: ["operation"], registers });
    const bytesOut = new Counter({ name: "stategit_http_response_bytes_total", help: "Response body bytes sent, by operation", labelNames: ["operation"], registers });
    this.byOperation = Object.fromEntries(
      OPERATIONS.map((operation) => [operation, { duration: duration.labels(operation), bytesIn: bytesIn.labels(operation), bytesOut: bytesOut.labels(operation) }]),
    ) as Metrics["byOperation"];

    const hits = new Counter({ name: "stategit_repository_cache_hits_total", help: "Requests that found their repository loaded and current", registers });
    const misses = new Counter({ name: "stategit_repository_cache_misses_total", help: "Requests that read their repository's manifest and new packs from storage", registers });
    const cached = new Gauge({ name: "stategit_repository_cache_bytes", help: "Memory held by loaded repositories", registers });
    this.repositoryCache = { hit: () => hits.inc(), miss: () => misses.inc(), cachedBytes: (bytes) => cached.set(bytes) };

    this.storageCalls = callMetrics(this.registry, "storage", "Blob store");
    this.databaseCalls = callMetrics(this.registry, "database", "Database");

    const queue = new Gauge({ name: "stategit_worker_pool_queue_length", help: "Jobs waiting for a worker thread", registers });
    const busy = new Counter({ name: "stategit_worker_pool_busy_seconds_total", help: "Time worker threads spent on jobs", registers });
    this.workerPool = { queueLength: (jobs) => queue.set(jobs), busy: (seconds) => busy.inc(seconds) };

    new Gauge({ name: "stategit_build_info", help: "The running version and the commit it was built from (always 1)", labelNames: ["version", "commit"], registers }).set({ version: options.version, commit: options.commit }, 1);
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  request(sample: RequestSample): void {
    const key = `${sample.route} ${sample.method} ${sample.status}`;
    let counter = this.requestCounters.get(key);
    if (!counter) {
      counter = this.requests.labels(sample.route, sample.method, String(sample.status));
      this.requestCounters.set(key, counter);
    }
    counter.inc();
    const metrics = this.byOperation[sample.operation];
    metrics.duration.observe(sample.seconds);
    if (sample.bytesIn > 0) metrics.bytesIn.inc(sample.bytesIn);
    if (sample.bytesOut > 0) metrics.bytesOut.inc(sample.bytesOut);
  }

  packSent(objects: number): void {
    this.objectsSent.inc(objects);
  }

  packReceived(objects: number): void {
    this.objectsReceived.inc(objects);
  }

  /** The exposition: Prometheus text format 0.0.4. */
  async text(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}

/** Latency histogram and error counter of one dependency's calls, by operation (the method called). */
function callMetrics(registry: Registry, system: string, what: string): CallObserver {
  const duration = new Histogram({ name: `stategit_${system}_call_duration_seconds`, help: `${what} call latency, by operation`, labelNames: ["operation"], buckets: CALL_BUCKETS, registers: [registry] });
  const errors = new Counter({ name: `stategit_${system}_call_errors_total`, help: `${what} calls that failed, by operation`, labelNames: ["operation"], registers: [registry] });
  const children = new Map<string, { duration: Histogram.Internal<string>; errors: Counter.Internal }>();
  return {
    observe(operation, seconds, failed) {
      let child = children.get(operation);
      if (!child) {
        child = { duration: duration.labels(operation), errors: errors.labels(operation) };
        children.set(operation, child);
      }
      child.duration.observe(seconds);
      if (failed) child.errors.inc();
    },
  };
}
