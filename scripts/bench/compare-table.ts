/** The comparison's table (compare.ts): values per server, stategit's ratios, issue 8's targets and verdicts. */
import { fixed, table } from "./harness.ts";

export type Kind = "git" | "dulwich" | "stategit";
/** A server, or the canned-bytes ceiling. */
export type Column = Kind | "canned";

export interface Target {
  against: Column | "limit";
  factor: number;
}

export interface Row {
  label: string;
  values: Partial<Record<Column, number>>;
  /** How a value prints: milliseconds, MiB, per second. */
  unit: "ms" | "MiB" | "/s";
  higherIsBetter?: boolean;
  targets?: Target[];
  /** For a "limit" target: the bound. */
  limit?: number;
  /** A note on a cell, e.g. dulwich's v0 answer in a v2 row. */
  notes?: Partial<Record<Column, string>>;
}

function format(value: number | undefined, unit: Row["unit"]): string {
  if (value === undefined) return "-";
  if (unit === "MiB") return fixed(value);
  return value < 10 ? fixed(value, 1) : fixed(value);
}

const targetName = (target: Target) => (target.against === "canned" ? "bare" : target.against);

function describeTarget(target: Target, row: Row): string {
  const sign = row.higherIsBetter ? "≥" : "≤";
  return target.against === "limit" ? `${sign}${format(row.limit, row.unit)}` : `${sign}${target.factor}× ${targetName(target)}`;
}

/** The value stategit must reach (or stay under): the limit, or another column's value times the factor. */
function bound(target: Target, row: Row): number | undefined {
  const base = target.against === "limit" ? row.limit : row.values[target.against];
  return base === undefined ? undefined : base * target.factor;
}

function verdict(row: Row): string {
  const ours = row.values.stategit;
  if (!row.targets?.length || ours === undefined) return "";
  const missed = row.targets.filter((target) => {
    const value = bound(target, row);
    return value !== undefined && (row.higherIsBetter ? ours < value : ours > value);
  });
  return missed.length === 0 ? "met" : `MISSED (${missed.map(targetName).join(", ")})`;
}

/** The table: a row per measurement, the servers' values, stategit's ratios to each, the targets and whether they were met. */
export function renderTable(rows: Row[]): string {
  const ratio = (row: Row, column: Column) => {
    const [ours, theirs] = [row.values.stategit, row.values[column]];
    return ours === undefined || theirs === undefined ? "" : `${(ours / theirs).toFixed(2)}×`;
  };
  const header = ["", "git http-backend", "dulwich", "stategit", "bare Bun", "stategit/git", "/dulwich", "/bare", "target", ""];
  const body = rows.map((row) => [
    `${row.label} (${row.unit === "/s" ? "fetches/s" : row.unit})`,
    ...(["git", "dulwich", "stategit", "canned"] as const).map((column) => `${row.notes?.[column] ? `${row.notes[column]} ` : ""}${format(row.values[column], row.unit)}`),
    ratio(row, "git"),
    ratio(row, "dulwich"),
    ratio(row, "canned"),
    (row.targets ?? []).map((target) => describeTarget(target, row)).join(", "),
    verdict(row),
  ]);
  return table([header, ...body]);
}
