import type { EventLog } from "../db/events.ts";
import { LocalTransport } from "./transport.ts";

/** SQLite's default poll: the "once a second" between processes (this process's own commits are immediate). */
export const DEFAULT_POLL_INTERVAL_MS = 1000;

/**
 * SQLite across processes: this process's commits reach its subscribers at once; every
 * `intervalMs` one indexed read of the events table finds what other processes (another `serve`,
 * `stategit import`) committed since the last poll. A notice may come twice (once directly, once
 * polled); readers read by cursor, so that costs a read and nothing else.
 */
export class PollingTransport extends LocalTransport {
  private seen = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private polling: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private readonly log: EventLog,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {
    super();
  }

  static async start(log: EventLog, options: { intervalMs?: number; onError: (error: unknown) => void }): Promise<PollingTransport> {
    const transport = new PollingTransport(log, options.intervalMs ?? DEFAULT_POLL_INTERVAL_MS, options.onError);
    transport.seen = await log.newestSeq();
    transport.schedule();
    return transport;
  }

  override async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.polling;
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        this.schedule();
      });
    }, this.intervalMs);
    // Polling alone never keeps a process alive.
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    try {
      for (;;) {
        const recorded = await this.log.recordedAfter(this.seen);
        for (const { seq, ...notice } of recorded) {
          this.seen = seq;
          this.listeners.emit(notice);
        }
        if (recorded.length === 0 || this.closed) return;
      }
    } catch (error) {
      this.onError(error);
    }
  }
}
