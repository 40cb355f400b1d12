import { describe, expect, test } from "bun:test";
import { Counter, Gauge, Histogram, Registry, ScrapedValue } from "../../src/http/prometheus.ts";
import { parseExposition } from "./exposition.ts";

describe("the Prometheus text writer", () => {
  test("counters, gauges and scraped values: HELP and TYPE first, unlabelled ones at 0 from the start", () => {
    const registry = new Registry();
    const plain = registry.register(new Counter("jobs_total", "Jobs done"));
    const byKind = registry.register(new Counter("events_total", "Events, by kind", ["kind"]));
    registry.register(new Gauge("queue_length", "Jobs waiting"));
    registry.register(new ScrapedValue("answer", "Read when scraped", "gauge", () => 42));
    expect(registry.text()).toBe(
      [
        "# HELP jobs_total Jobs done",
        "# TYPE jobs_total counter",
        "jobs_total 0",
        "# HELP events_total Events, by kind",
        "# TYPE events_total counter",
        "# HELP queue_length Jobs waiting",
        "# TYPE queue_length gauge",
        "queue_length 0",
        "# HELP answer Read when scraped",
        "# TYPE answer gauge",
        "answer 42",
        "",
      ].join("\n"),
    );
    plain.labels().inc();
    plain.labels().inc(2.5);
    byKind.labels("push").inc();
    byKind.labels("push").inc();
    const samples = parseExposition(registry.text());
    expect(samples.get("jobs_total")).toBe(3.5);
    expect(samples.get('events_total{kind="push"}')).toBe(2);
  });

  test("label values and help text are escaped", () => {
    const registry = new Registry();
    registry.register(new Gauge("odd", 'Help with \\ and\nnewline', ["path"])).set(1, 'a"b\\c\nd');
    const text = registry.text();
    expect(text).toContain("# HELP odd Help with \\\\ and\\nnewline\n");
    expect(text).toContain('odd{path="a\\"b\\\\c\\nd"} 1\n');
    expect(parseExposition(text).size).toBe(1);
  });

  test("histograms: cumulative buckets up to +Inf, sum and count, per label set", () => {
    const registry = new Registry();
    const histogram = registry.register(new Histogram("latency_seconds", "Latency", [0.1, 1], ["op"]));
    const get = histogram.labels("get");
    for (const value of [0.05, 0.1, 0.5, 3]) get.observe(value);
    const samples = parseExposition(registry.text());
    expect(samples.get('latency_seconds_bucket{op="get",le="0.1"}')).toBe(2);
    expect(samples.get('latency_seconds_bucket{op="get",le="1"}')).toBe(3);
    expect(samples.get('latency_seconds_bucket{op="get",le="+Inf"}')).toBe(4);
    expect(samples.get('latency_seconds_sum{op="get"}')).toBeCloseTo(3.65);
    expect(samples.get('latency_seconds_count{op="get"}')).toBe(4);
  });

  test("misuse is refused: a bad or repeated name, wrong label count, bounds out of order", () => {
    const registry = new Registry();
    expect(() => registry.register(new Counter("bad-name", "x"))).toThrow();
    registry.register(new Counter("twice", "x"));
    expect(() => registry.register(new Counter("twice", "x"))).toThrow();
    expect(() => new Counter("labelled", "x", ["a", "b"]).labels("only one")).toThrow();
    expect(() => new Histogram("h", "x", [1, 0.5])).toThrow();
  });
});
