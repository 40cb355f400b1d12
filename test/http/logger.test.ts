import { describe, expect, test } from "bun:test";
import { createLogger } from "../../src/http/logger.ts";

function capture(level: Parameters<typeof createLogger>[0]) {
  const writes: string[] = [];
  return { writes, logger: createLogger(level, (text) => void writes.push(text)) };
}

describe("the JSON logger", () => {
  test("one JSON object per line: time, level, message, then the fields (undefined ones left out)", () => {
    const { writes, logger } = capture("debug");
    logger.log("info", 'a "quoted"\nmessage');
    logger.log("warn", "empty", {});
    logger.log("error", "fields", { status: 500, refusal: undefined, path: "/x\ny", ok: false });
    logger.flush();
    const lines = writes.join("").split("\n");
    expect(lines.pop()).toBe("");
    const parsed = lines.map((line) => JSON.parse(line));
    for (const line of parsed) expect(new Date(line.time).toISOString()).toBe(line.time);
    expect(parsed.map(({ time: _, ...rest }) => rest)).toEqual([
      { level: "info", msg: 'a "quoted"\nmessage' },
      { level: "warn", msg: "empty" },
      { level: "error", msg: "fields", status: 500, path: "/x\ny", ok: false },
    ]);
  });

  test("lines below the level are dropped", () => {
    const { writes, logger } = capture("warn");
    expect([logger.enabled("info"), logger.enabled("warn"), logger.enabled("error")]).toEqual([false, true, true]);
    logger.log("debug", "no");
    logger.log("info", "no");
    logger.log("error", "yes");
    logger.flush();
    expect(writes.join("").match(/"msg":"\w+"/g)).toEqual(['"msg":"yes"']);
  });

  test("lines are batched: one write for many, on flush, after a short delay, or once the batch is large", async () => {
    const { writes, logger } = capture("info");
    logger.log("info", "one");
    logger.log("info", "two");
    expect(writes).toEqual([]);
    logger.flush();
    expect(writes).toHaveLength(1);
    logger.log("info", "three");
    while (writes.length < 2) await Bun.sleep(10);
    expect(writes[1]).toContain('"msg":"three"');
    const big = "x".repeat(70 * 1024);
    logger.log("info", big);
    expect(writes).toHaveLength(3);
  });
});
