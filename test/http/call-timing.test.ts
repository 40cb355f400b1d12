import { describe, expect, test } from "bun:test";
import { timeCalls } from "../../src/http/call-timing.ts";
import { ShuttingDownError, WriteGate } from "../../src/http/write-gate.ts";

class Store {
  private calls = 0;
  readonly name = "store";
  async get(key: string): Promise<string> {
    this.calls++;
    if (key === "bad") throw new Error("unreachable");
    return `${key}:${this.calls}`;
  }
  count(): number {
    return this.calls;
  }
  explode(): never {
    throw new Error("boom");
  }
}

function observed() {
  const calls: { operation: string; failed: boolean; seconds: number }[] = [];
  return { calls, observer: { observe: (operation: string, seconds: number, failed: boolean) => void calls.push({ operation, seconds, failed }) } };
}

describe("timeCalls", () => {
  test("times each method call by name, until its promise settles, failures included; values pass through", async () => {
    const { calls, observer } = observed();
    const store = timeCalls(new Store(), observer);
    expect(await store.get("a")).toBe("a:1");
    await expect(store.get("bad")).rejects.toThrow("unreachable");
    expect(store.count()).toBe(2);
    expect(() => store.explode()).toThrow("boom");
    expect(store.name).toBe("store");
    expect(calls.map(({ operation, failed }) => [operation, failed])).toEqual([
      ["get", false],
      ["get", true],
      ["count", false],
      ["explode", true],
    ]);
    expect(calls.every(({ seconds }) => seconds >= 0)).toBe(true);
  });

  test("a method read twice is the same function (callers may keep a bound reference)", () => {
    const store = timeCalls(new Store(), observed().observer);
    expect(store.get).toBe(store.get);
  });
});

describe("WriteGate", () => {
  test("guarded methods run while open; once closed they are refused, others still run", async () => {
    const gate = new WriteGate();
    const store = gate.guard(new Store(), ["get"]);
    expect(await store.get("a")).toBe("a:1");
    await gate.close();
    await expect(store.get("b")).rejects.toBeInstanceOf(ShuttingDownError);
    expect(store.count()).toBe(1);
  });

  test("close waits for the writes under way", async () => {
    const gate = new WriteGate();
    let release!: () => void;
    const slow = gate.guard({ write: () => new Promise<void>((resolve) => (release = resolve)) }, ["write"]);
    let written = false;
    const write = slow.write().then(() => (written = true));
    let closed = false;
    const closing = gate.close().then(() => (closed = true));
    await Bun.sleep(10);
    expect(closed).toBe(false);
    release();
    await Promise.all([write, closing]);
    expect(written && closed).toBe(true);
  });
});
