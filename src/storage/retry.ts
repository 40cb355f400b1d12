import { StorageError } from "./blob-store.ts";

/** How long a remote call may take, and how often and how soon it is tried again. */
export interface RetryPolicy {
  /** The longest a call may take, every attempt and backoff included. */
  deadlineMs: number;
  /** The longest one attempt may take before it is abandoned (and aborted) and tried again. */
  attemptTimeoutMs: number;
  /** The backoff before the first retry is drawn from [0, initialBackoffMs]; the bound doubles per retry... */
  initialBackoffMs: number;
  /** ...up to this bound. */
  maxBackoffMs: number;
}

/** What went wrong in one attempt: try again, or give up with this error. */
export type AttemptFailure = { retry: true; reason: string } | { retry: false; error: Error };

/**
 * Runs `attempt` until it succeeds, `classify` gives up, or the deadline passes; then throws
 * StorageError("storage.unavailable") naming the call, the attempts and the last reason.
 * Backoff is exponential with full jitter (a uniform draw below the bound), so clients that failed
 * together do not retry together. Each attempt gets a signal that aborts at its own timeout;
 * an attempt that ignores it is abandoned all the same, so no call outlives its deadline.
 */
export async function withRetries<T>(
  call: string,
  policy: RetryPolicy,
  attempt: (signal: AbortSignal) => Promise<T>,
  classify: (error: unknown) => AttemptFailure,
): Promise<T> {
  const start = performance.now();
  const deadline = start + policy.deadlineMs;
  let lastReason = "no attempt was made";
  for (let attempts = 1; ; attempts++) {
    const remaining = deadline - performance.now();
    if (remaining <= 0) {
      const elapsed = Math.round(performance.now() - start);
      throw new StorageError(
        "storage.unavailable",
        `${call} failed after ${attempts - 1} attempt(s) in ${elapsed} ms (deadline ${policy.deadlineMs} ms): ${lastReason}`,
      );
    }
    const timeoutMs = Math.min(policy.attemptTimeoutMs, remaining);
    try {
      return await attemptWithTimeout(attempt, timeoutMs);
    } catch (error) {
      const failure = classify(error);
      if (!failure.retry) throw failure.error;
      // A last attempt cut short by the deadline says less than the failure before it.
      const cutShort = error instanceof AttemptTimeout && timeoutMs < policy.attemptTimeoutMs && attempts > 1;
      if (!cutShort) lastReason = failure.reason;
    }
    const bound = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (attempts - 1));
    await Bun.sleep(Math.min(Math.random() * bound, Math.max(0, deadline - performance.now())));
  }
}

/** Thrown into an attempt's signal, and classified, when it runs past its timeout. */
export class AttemptTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${Math.ceil(timeoutMs)} ms`);
  }
}

function attemptWithTimeout<T>(attempt: (signal: AbortSignal) => Promise<T>, timeoutMs: number): Promise<T> {
  const controller = new AbortController();
  let timer: Timer | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new AttemptTimeout(timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  return Promise.race([attempt(controller.signal), timedOut]).finally(() => clearTimeout(timer));
}
