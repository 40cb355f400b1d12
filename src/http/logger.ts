/**
 * The server's log: one JSON object per line on stderr (stdout carries only what a command
 * prints as its result, e.g. the listening address). Every line has `time`, `level` and `msg`;
 * request lines add the fields of RequestLogFields.
 */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(text: string): text is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(text);
}

export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  /** Whether a line at `level` would be written: lets callers skip building fields for nothing. */
  enabled(level: LogLevel): boolean;
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  /** Writes out buffered lines now (before the process exits). */
  flush(): void;
}

/** Lines are gathered and written at most this long after the first of them, or sooner past FLUSH_BYTES. */
const FLUSH_DELAY_MS = 100;
const FLUSH_BYTES = 64 * 1024;

/**
 * Writes JSON lines at `level` and above to `write` (default: stderr). Lines are buffered for up
 * to FLUSH_DELAY_MS, so a busy server makes one write call for many requests instead of one
 * each (a write costs more than building the line); `flush` before exiting.
 */
export function createLogger(level: LogLevel, write: (text: string) => void = (text) => process.stderr.write(text)): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  let pending = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Lines are built by hand around one JSON.stringify of the fields: merging them into a new
  // object first costs as much again, and a busy server writes thousands a second.
  let lastMs = 0;
  let lastTime = "";
  const time = () => {
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      lastTime = new Date(now).toISOString();
    }
    return lastTime;
  };
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending === "") return;
    const text = pending;
    pending = "";
    write(text);
  };
  return {
    enabled: (candidate) => LOG_LEVELS.indexOf(candidate) >= threshold,
    log(candidate, msg, fields) {
      if (LOG_LEVELS.indexOf(candidate) < threshold) return;
      const json = fields === undefined ? "{}" : JSON.stringify(fields);
      pending += `{"time":"${time()}","level":"${candidate}","msg":${JSON.stringify(msg)}${json === "{}" ? "" : `,${json.slice(1, -1)}`}}\n`;
      if (pending.length >= FLUSH_BYTES) flush();
      else timer ??= setTimeout(flush, FLUSH_DELAY_MS).unref();
    },
    flush,
  };
}

/** A logger that writes nothing: for tests and embedders that do not want the server's log. */
export const SILENT_LOGGER: Logger = { enabled: () => false, log: () => undefined, flush: () => undefined };

