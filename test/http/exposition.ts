import { expect } from "bun:test";

/**
 * Parses the Prometheus text format (0.0.4) strictly: every sample belongs to a family declared
 * by `# HELP` and `# TYPE` before it; names, label sets and values are well formed; empty lines
 * are allowed (the format ignores them).
 */
export function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Map<string, string>();
  const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
  const sample = new RegExp(`^(${NAME})(\\{(?:${LABEL})(?:,${LABEL})*\\})? (\\S+)$`);
  expect(text.endsWith("\n")).toBe(true);
  for (const line of text.slice(0, -1).split("\n")) {
    if (line === "") continue;
    const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (comment) {
      if (comment[1] === "TYPE") {
        expect(["counter", "gauge", "histogram", "summary", "untyped"]).toContain(comment[3]);
        typed.set(comment[2], comment[3]);
      }
      continue;
    }
    const match = sample.exec(line);
    if (!match) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const family = match[1].replace(/_(bucket|sum|count)$/, "");
    if (!typed.has(match[1]) && !typed.has(family)) throw new Error(`sample of an undeclared family: ${line}`);
    const value = Number(match[3].replace(/^\+Inf$/, "Infinity"));
    expect(Number.isNaN(value)).toBe(false);
    samples.set(`${match[1]}${match[2] ?? ""}`, value);
  }
  return samples;
}
