/**
 * A worker script for the pool's own tests: it does what each message says, the way a real
 * worker can end (a reply, a failure reply, an uncaught error, an exit, no answer yet).
 * Messages it does not know (such as a pack job) are never answered.
 */
import type { WorkerReply } from "../../src/workers/pool.ts";

declare const self: Worker;

type Order = { action: "echo"; value: unknown } | { action: "refuse" } | { action: "crash" } | { action: "exit" } | { action: "hold"; gate: SharedArrayBuffer };

const reply = (message: WorkerReply) => self.postMessage(message);

self.onmessage = (event: MessageEvent<Order>) => {
  const order = event.data;
  switch (order.action) {
    case "echo":
      reply({ kind: "chunks", parts: [new Uint8Array([1, 2, 3]), new Uint8Array([4])] });
      return reply({ kind: "done", result: order.value });
    case "refuse":
      return reply({ kind: "failed", error: { name: "CorruptDataError", code: "pack.checksum", message: "refused" } });
    case "crash":
      setTimeout(() => {
        throw new Error("boom");
      });
      return;
    case "exit":
      return process.exit(3);
    case "hold":
      // Blocks this thread until the test opens the gate: the worker stays busy, deterministically.
      Atomics.wait(new Int32Array(order.gate), 0, 0);
      return reply({ kind: "done", result: "released" });
  }
};
