/**
 * A small Prometheus registry and text-format (0.0.4) writer. prom-client works in the compiled
 * binary, but it validates and hashes label objects on every observation: about 2 µs each, and
 * an up-to-date fetch makes a dozen of them, which is more than the request log and all other
 * instrumentation together. Here a child series is looked up once and then costs an addition.
 */

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type MetricType = "counter" | "gauge" | "histogram";

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  /** The sample lines, each ending in a newline. */
  samples(): string;
}

export class Registry {
  private readonly families: Family[] = [];

  register<F extends Family>(family: F): F {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(family.name)) throw new Error(`invalid metric name ${family.name}`);
    if (this.families.some(({ name }) => name === family.name)) throw new Error(`metric ${family.name} registered twice`);
    this.families.push(family);
    return family;
  }

  /** The exposition: every family's HELP and TYPE lines, then its samples. */
  text(): string {
    let out = "";
    for (const family of this.families) out += `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n${family.samples()}`;
    return out;
  }
}

/** Series of one family by label values, in creation order. */
class Series<T> {
  private readonly byKey = new Map<string, { labels: string; value: T }>();

  constructor(
    private readonly labelNames: readonly string[],
    private readonly create: () => T,
  ) {}

  get(values: readonly string[]): T {
    if (values.length !== this.labelNames.length) throw new Error(`expected labels ${this.labelNames.join(", ")}`);
    const key = values.join("\0");
    let series = this.byKey.get(key);
    if (!series) {
      series = { labels: this.labelNames.map((name, i) => `${name}="${escapeLabelValue(values[i])}"`).join(","), value: this.create() };
      this.byKey.set(key, series);
    }
    return series.value;
  }

  entries(): Iterable<{ labels: string; value: T }> {
    return this.byKey.values();
  }
}

export interface CounterSeries {
  inc(amount?: number): void;
}

/** A family of plain numbers by label set: what counters and gauges share. */
abstract class NumberFamily implements Family {
  abstract readonly type: MetricType;
  protected readonly series: Series<{ value: number }>;

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[] = [],
  ) {
    this.series = new Series(labelNames, () => ({ value: 0 }));
    // An unlabelled family is exported from the start, at 0.
    if (labelNames.length === 0) this.series.get([]);
  }

  samples(): string {
    let out = "";
    for (const { labels, value } of this.series.entries()) out += sampleLine(this.name, labels, value.value);
    return out;
  }
}

export class Counter extends NumberFamily {
  readonly type = "counter";

  /** The series with these label values (in labelNames order): keep it, lookups cost a join. */
  labels(...values: string[]): CounterSeries {
    const series = this.series.get(values);
    return { inc: (amount = 1) => void (series.value += amount) };
  }
}

export class Gauge extends NumberFamily {
  readonly type = "gauge";

  set(value: number, ...labelValues: string[]): void {
    this.series.get(labelValues).value = value;
  }
}

/** One unlabelled value read when scraped, e.g. the process's CPU time. */
export class ScrapedValue implements Family {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
    private readonly read: () => number,
  ) {}

  samples(): string {
    return sampleLine(this.name, "", this.read());
  }
}

export interface HistogramSeries {
  observe(value: number): void;
}

interface HistogramState {
  /** Observations per bucket (not cumulative); the last slot is above the largest bound. */
  counts: Float64Array;
  sum: number;
}

export class Histogram implements Family {
  readonly type = "histogram";
  private readonly series: Series<HistogramState>;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    labelNames: readonly string[] = [],
  ) {
    if (bounds.some((bound, i) => i > 0 && bound <= bounds[i - 1])) throw new Error(`${name}: bucket bounds must increase`);
    this.series = new Series(labelNames, () => ({ counts: new Float64Array(bounds.length + 1), sum: 0 }));
  }

  labels(...values: string[]): HistogramSeries {
    const state = this.series.get(values);
    const bounds = this.bounds;
    return {
      observe(value) {
        let bucket = 0;
        while (bucket < bounds.length && value > bounds[bucket]) bucket++;
        state.counts[bucket]++;
        state.sum += value;
      },
    };
  }

  samples(): string {
    let out = "";
    for (const { labels, value } of this.series.entries()) {
      const prefix = labels === "" ? "" : `${labels},`;
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += value.counts[i];
        out += sampleLine(`${this.name}_bucket`, `${prefix}le="${formatNumber(bound)}"`, cumulative);
      });
      cumulative += value.counts[this.bounds.length];
      out += sampleLine(`${this.name}_bucket`, `${prefix}le="+Inf"`, cumulative);
      out += sampleLine(`${this.name}_sum`, labels, value.sum);
      out += sampleLine(`${this.name}_count`, labels, cumulative);
    }
    return out;
  }
}

function sampleLine(name: string, labels: string, value: number): string {
  return `${name}${labels === "" ? "" : `{${labels}}`} ${formatNumber(value)}\n`;
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}
