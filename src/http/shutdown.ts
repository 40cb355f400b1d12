import type { Listener } from "./listener.ts";
import type { Logger } from "./logger.ts";
import type { WriteGate } from "./write-gate.ts";

export interface ShutdownOptions {
  listener: Listener;
  gate: WriteGate;
  /** How long requests in flight (and background work) may take once the signal came. */
  timeoutMs: number;
  logger: Logger;
  /** Resolves when background work (compaction) is done. */
  idle: () => Promise<void>;
}

/** After the deadline, how long commits already under way may take to finish: each is one atomic write. */
const WRITES_IN_FLIGHT_GRACE_MS = 5000;

/**
 * Stops the server (SIGTERM): no new connections; requests in flight and background work may
 * finish within `timeoutMs`. Past that, writes are refused before they commit (WriteGate), so a
 * push cut by the deadline leaves its repository unchanged, and every connection is closed.
 * Resolves to how it ended; the caller closes the database and exits.
 */
export async function shutDown(options: ShutdownOptions): Promise<"drained" | "deadline"> {
  const { listener, gate, timeoutMs, logger } = options;
  logger.log("info", "shutting down: not accepting connections, waiting for requests in flight", { timeout_ms: timeoutMs });
  const finished = (async () => {
    await listener.drain();
    await options.idle();
    return "drained" as const;
  })();
  const outcome = await Promise.race([finished, sleep(timeoutMs).then(() => "deadline" as const)]);
  if (outcome === "deadline") {
    logger.log("warn", "shutdown deadline passed: refusing writes not yet committed and closing every connection", { timeout_ms: timeoutMs });
    await Promise.race([gate.close(), sleep(WRITES_IN_FLIGHT_GRACE_MS)]);
    await listener.close();
  }
  return outcome;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
