/** One thing the server needs to answer requests, e.g. the database; `check` rejects when it is unreachable. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

export interface Readiness {
  ready: boolean;
  /** Each check's outcome: "ok" or why it failed. */
  checks: Record<string, string>;
}

/** A check that has not answered by then counts as failed: a hung dependency must not hang the probe. */
export const READINESS_TIMEOUT_MS = 2000;

/** Runs every check at once, each within `timeoutMs`. */
export async function checkReadiness(checks: readonly ReadinessCheck[], timeoutMs = READINESS_TIMEOUT_MS): Promise<Readiness> {
  const outcomes = await Promise.all(checks.map(({ check }) => withTimeout(check, timeoutMs)));
  const result: Readiness = { ready: true, checks: {} };
  checks.forEach(({ name }, i) => {
    result.checks[name] = outcomes[i];
    if (outcomes[i] !== "ok") result.ready = false;
  });
  return result;
}

async function withTimeout(check: () => Promise<void>, timeoutMs: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      check().then(
        () => "ok",
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
