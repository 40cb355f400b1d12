import type { WebhookMetrics } from "../events/webhooks.ts";
import type { RepositoryCacheMetrics } from "../repo/cache-metrics.ts";
import type { CallObserver } from "./call-timing.ts";
import { CONTENT_TYPE, Counter, Gauge, Histogram, Registry, ScrapedValue, type CounterSeries, type HistogramSeries } from "./prometheus.ts";

/**
 * The server's metrics in Prometheus' text format (GET /metrics). Lower layers
 * never import this module: they are handed the small observer interfaces it implements
 * (RepositoryCacheMetrics, CallObserver, WorkerPoolMetrics, WebhookMetrics).
 */

/** What a request was, for the duration and byte metrics (its route decides). */
export type Operation = "info-refs" | "upload-pack" | "receive-pack" | "api" | "events" | "other";

const OPERATIONS: readonly Operation[] = ["info-refs", "upload-pack", "receive-pack", "api", "events", "other"];

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
  /** Workers running a job, now. */
  busyWorkers(workers: number): void;
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
}

export class Metrics {
  readonly registry = new Registry();
  readonly repositoryCache: RepositoryCacheMetrics;
  readonly storageCalls: CallObserver;
  readonly databaseCalls: CallObserver;
  readonly workerPool: WorkerPoolMetrics;
  readonly webhooks: WebhookMetrics;

  private readonly requests = this.registry.register(new Counter("stategit_http_requests_total", "HTTP requests answered, by route, method and status", ["route", "method", "status"]));
  /** Series of `requests` by "route method status", so that a request costs one map lookup. */
  private readonly requestCounters = new Map<string, CounterSeries>();
  private readonly byOperation: Record<Operation, { duration: HistogramSeries; bytesIn: CounterSeries; bytesOut: CounterSeries }>;
  private readonly objectsSent = this.registry.register(new Counter("stategit_git_objects_sent_total", "Objects in the packs sent to fetches and clones")).labels();
  private readonly objectsReceived = this.registry.register(new Counter("stategit_git_objects_received_total", "Objects in the packs of pushes that were unpacked")).labels();

  constructor(options: MetricsOptions) {
    const registry = this.registry;
    const duration = registry.register(new Histogram("stategit_http_request_duration_seconds", "Time from a request's arrival to the last byte of its answer, by operation", REQUEST_BUCKETS, ["operation"]));
    const bytesIn = registry.register(new Counter("stategit_http_request_bytes_total", "Request body bytes received, by operation", ["operation"]));
    const bytesOut = registry.register(new Counter("stategit_http_response_bytes_total", "Response body bytes sent, by operation", ["operation"]));
    this.byOperation = Object.fromEntries(
      OPERATIONS.map((operation) => [operation, { duration: duration.labels(operation), bytesIn: bytesIn.labels(operation), bytesOut: bytesOut.labels(operation) }]),
    ) as Metrics["byOperation"];

    const hits = registry.register(new Counter("stategit_repository_cache_hits_total", "Requests that found their repository loaded and current")).labels();
    const misses = registry.register(new Counter("stategit_repository_cache_misses_total", "Requests that read their repository's manifest and new packs from storage")).labels();
    const cached = registry.register(new Gauge("stategit_repository_cache_bytes", "Memory held by loaded repositories"));
    this.repositoryCache = { hit: () => hits.inc(), miss: () => misses.inc(), cachedBytes: (bytes) => cached.set(bytes) };

    this.storageCalls = callMetrics(registry, "storage", "Blob store");
    this.databaseCalls = callMetrics(registry, "database", "Database");

    const queue = registry.register(new Gauge("stategit_worker_pool_queue_length", "Jobs waiting for a worker thread"));
    const busyWorkers = registry.register(new Gauge("stategit_worker_pool_busy_workers", "Worker threads running a job"));
    const busy = registry.register(new Counter("stategit_worker_pool_busy_seconds_total", "Time worker threads spent on jobs")).labels();
    this.workerPool = { queueLength: (jobs) => queue.set(jobs), busyWorkers: (workers) => busyWorkers.set(workers), busy: (seconds) => busy.inc(seconds) };

    const deliveries = registry.register(new Counter("stategit_webhook_deliveries_total", "Webhook delivery attempts, by outcome: delivered, failed (to be retried), gave_up", ["outcome"]));
    const [delivered, failed, gaveUp] = ["delivered", "failed", "gave_up"].map((outcome) => deliveries.labels(outcome));
    const failing = registry.register(new Gauge("stategit_webhook_failing", "Webhook and agent pairs whose delivery is failing and being retried"));
    this.webhooks = { delivered: () => delivered.inc(), failed: () => failed.inc(), gaveUp: () => gaveUp.inc(), failing: (count) => failing.set(count) };

    registry.register(new Gauge("stategit_build_info", "The running version and the commit it was built from (always 1)", ["version", "commit"])).set(1, options.version, options.commit);
    registerProcessMetrics(registry);
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
    metrics.bytesIn.inc(sample.bytesIn);
    metrics.bytesOut.inc(sample.bytesOut);
  }

  packSent(objects: number): void {
    this.objectsSent.inc(objects);
  }

  packReceived(objects: number): void {
    this.objectsReceived.inc(objects);
  }

  /** The exposition: Prometheus text format 0.0.4. */
  text(): { body: string; contentType: string } {
    return { body: this.registry.text(), contentType: CONTENT_TYPE };
  }
}

/** Latency histogram and error counter of one dependency's calls, by operation (the method called). */
function callMetrics(registry: Registry, system: string, what: string): CallObserver {
  const duration = registry.register(new Histogram(`stategit_${system}_call_duration_seconds`, `${what} call latency, by operation`, CALL_BUCKETS, ["operation"]));
  const errors = registry.register(new Counter(`stategit_${system}_call_errors_total`, `${what} calls that failed, by operation`, ["operation"]));
  const series = new Map<string, { duration: HistogramSeries; errors: CounterSeries }>();
  return {
    observe(operation, seconds, failed) {
      let child = series.get(operation);
      if (!child) {
        child = { duration: duration.labels(operation), errors: errors.labels(operation) };
        series.set(operation, child);
      }
      child.duration.observe(seconds);
      if (failed) child.errors.inc();
    },
  };
}

/** The usual process families (the names prom-client and other clients use), read at each scrape. */
function registerProcessMetrics(registry: Registry): void {
  const startSeconds = Math.floor(performance.timeOrigin / 1000);
  registry.register(new ScrapedValue("process_cpu_seconds_total", "User and system CPU time spent", "counter", () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  }));
  registry.register(new ScrapedValue("process_resident_memory_bytes", "Resident memory size", "gauge", () => process.memoryUsage.rss()));
  registry.register(new ScrapedValue("process_heap_bytes", "JavaScript heap in use", "gauge", () => process.memoryUsage().heapUsed));
  registry.register(new ScrapedValue("process_start_time_seconds", "Start time of the process since the Unix epoch", "gauge", () => startSeconds));
}
