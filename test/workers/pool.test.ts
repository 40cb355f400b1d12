import { afterEach, describe, expect, test } from "bun:test";
import { WorkerCrashedError, WorkerPool, WorkerPoolFullError, type WorkerPoolObserver } from "../../src/workers/pool.ts";

const FIXTURE = new URL("./fixture-worker.ts", import.meta.url);

const pools: WorkerPool<{ jobs: number }>[] = [];
afterEach(() => {
  for (const pool of pools.splice(0)) pool.close();
});

interface Observed {
  queue: number[];
  busyWorkers: number[];
  busySeconds: number[];
}

function makePool(size: number, queueLimit: number) {
  const observed: Observed = { queue: [], busyWorkers: [], busySeconds: [] };
  const observer: WorkerPoolObserver = {
    queueLength: (jobs) => observed.queue.push(jobs),
    busyWorkers: (workers) => observed.busyWorkers.push(workers),
    busy: (seconds) => observed.busySeconds.push(seconds),
  };
  const pool = new WorkerPool({ url: FIXTURE, size, queueLimit, observer, initialState: () => ({ jobs: 0 }) });
  pools.push(pool);
  return { pool, observed };
}

/** Runs one order; resolves with its chunks and result, rejects with its error. */
function run(pool: WorkerPool<{ jobs: number }>, order: unknown, states: Array<{ jobs: number }> = []): Promise<{ chunks: number[][]; result: unknown }> {
  return new Promise((resolve, reject) => {
    const chunks: number[][] = [];
    pool.submit({
      message: (worker) => {
        worker.state.jobs++;
        states.push(worker.state);
        return { data: order, transfer: [] };
      },
      onChunk: (bytes) => chunks.push([...bytes]),
      onDone: (result) => resolve({ chunks, result }),
      onFailed: (error) => reject(error),
    });
  });
}

describe("worker pool", () => {
  test("a job's chunks (several a message) and result come back in order; a worker keeps its state from job to job", async () => {
    const { pool } = makePool(1, 4);
    const states: Array<{ jobs: number }> = [];
    expect(await run(pool, { action: "echo", value: { answer: 42 } }, states)).toEqual({ chunks: [[1, 2, 3], [4]], result: { answer: 42 } });
    await run(pool, { action: "echo", value: 1 }, states);
    expect(states[1]).toBe(states[0]);
    expect(states[1].jobs).toBe(2);
  });

  test("a job the worker refuses fails with its message, and the worker takes the next job", async () => {
    const { pool } = makePool(1, 4);
    await expect(run(pool, { action: "refuse" })).rejects.toThrow("refused");
    expect((await run(pool, { action: "echo", value: "next" })).result).toBe("next");
  });

  for (const action of ["crash", "exit"]) {
    test(`a worker that ends (${action}) fails its job cleanly and is replaced by a fresh one`, async () => {
      const { pool } = makePool(1, 4);
      const states: Array<{ jobs: number }> = [];
      await run(pool, { action: "echo", value: 0 }, states);
      const crashed = run(pool, { action }, states);
      const queued = run(pool, { action: "echo", value: "after" }, states);
      await expect(crashed).rejects.toBeInstanceOf(WorkerCrashedError);
      expect((await queued).result).toBe("after");
      // The replacement starts with a new state: whatever the old worker held is gone with it.
      expect(states[2]).not.toBe(states[0]);
      expect(states[2].jobs).toBe(1);
      expect(pool.size).toBe(1);
    });
  }

  test("when every worker is busy, jobs queue up to the limit; past it they are refused at once", async () => {
    const { pool, observed } = makePool(1, 2);
    const gate = new SharedArrayBuffer(4);
    const held = run(pool, { action: "hold", gate });
    const waiting = [run(pool, { action: "echo", value: 1 }), run(pool, { action: "echo", value: 2 })];
    expect(observed.queue.at(-1)).toBe(2);
    expect(observed.busyWorkers.at(-1)).toBe(1);
    expect(() => pool.submit({ message: () => ({ data: { action: "echo", value: 3 }, transfer: [] }), onChunk() {}, onDone() {}, onFailed() {} })).toThrow(WorkerPoolFullError);
    // Background work bounded by its callers may still wait.
    const unbounded = new Promise((resolve, reject) =>
      pool.submit({ message: () => ({ data: { action: "echo", value: 4 }, transfer: [] }), onChunk() {}, onDone: resolve, onFailed: reject, unbounded: true }),
    );
    Atomics.store(new Int32Array(gate), 0, 1);
    Atomics.notify(new Int32Array(gate), 0);
    expect((await held).result).toBe("released");
    expect((await Promise.all(waiting)).map(({ result }) => result)).toEqual([1, 2]);
    expect(await unbounded).toBe(4);
    expect(observed.queue.at(-1)).toBe(0);
    expect(observed.busyWorkers.at(-1)).toBe(0);
    expect(observed.busySeconds.length).toBe(4);
    expect(observed.busySeconds.every((seconds) => seconds >= 0)).toBe(true);
  });

  test("closing the pool fails running and queued jobs; nothing waits forever", async () => {
    const { pool } = makePool(1, 2);
    const gate = new SharedArrayBuffer(4);
    const held = run(pool, { action: "hold", gate });
    const queued = run(pool, { action: "echo", value: 1 });
    pool.close();
    Atomics.store(new Int32Array(gate), 0, 1);
    Atomics.notify(new Int32Array(gate), 0);
    await expect(held).rejects.toBeInstanceOf(WorkerCrashedError);
    await expect(queued).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(() => pool.submit({ message: () => ({ data: {}, transfer: [] }), onChunk() {}, onDone() {}, onFailed() {} })).toThrow(WorkerCrashedError);
  });
});
