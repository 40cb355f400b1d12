import { compareCursors, type EventCursor, type EventLog, type EventScope } from "../db/events.ts";
import { GitError } from "../git/errors.ts";
import { sharedRepositoryId } from "../repo/layout.ts";
import type { RecordedEvent } from "./change-event.ts";
import type { EventNotice, EventTransport } from "./transport.ts";

/** What a subscription yields: events in commit order, or word that it missed some and must resynchronise. */
export type StreamItem =
  /** `cursor` is where a reader that has this event (and those before it) resumes; see EventCursor. */
  | { kind: "event"; event: RecordedEvent; cursor: EventCursor; lastOfCursor: boolean }
  /** Events after the reader's cursor were pruned: reload the state, then follow from `cursor`. */
  | { kind: "resync"; cursor: EventCursor };

export interface SubscribeOptions {
  /** Resume after this cursor (SSE `Last-Event-ID`); undefined: from now. */
  after?: EventCursor;
  /** Ends the subscription (the client went away). */
  signal?: AbortSignal;
}

/**
 * Whether a notice may concern `scope`. A notice names the repository that committed, not the
 * agents a shared repository is attached to (a NOTIFY payload is small), so every agent stream of
 * the organisation reads on a shared repository's notice; its read finds whether it has the event.
 */
function matches(scope: EventScope, notice: EventNotice | undefined): boolean {
  if (notice === undefined) return true;
  if (notice.org !== scope.org) return false;
  if (scope.agent === undefined || notice.agent === scope.agent) return true;
  return sharedRepositoryId(scope.agent) === undefined && sharedRepositoryId(notice.agent) !== undefined;
}

/** Every open stream holds a listener and reads on each notice of its scope: a bound keeps a flood of them from exhausting the server. */
export const MAX_OPEN_SUBSCRIPTIONS = 10_000;

/** More subscriptions at once than the limit: code `events.too-many`. */
export class TooManySubscriptionsError extends GitError {}

/**
 * Subscriptions to the change events of an agent or an organisation (what the SSE routes and the
 * web page follow). Each reads the events table by cursor and waits for the transport's notices
 * between reads, so it never misses an event: a notice only says when to read.
 */
export class EventStreams {
  private readonly closing = new AbortController();
  private open = 0;

  constructor(
    private readonly log: EventLog,
    private readonly transport: EventTransport,
    private readonly maxOpen = MAX_OPEN_SUBSCRIPTIONS,
  ) {}

  /**
   * The events of `scope` after `options.after` (or from now), as they are committed, until the
   * signal aborts or close() is called. Starts with a resync item when events after `after` were
   * pruned. It counts against the limit from this call until it ends: a reader that stops early
   * calls return() on it, after starting it. Throws TooManySubscriptionsError past the limit.
   */
  subscribe(scope: EventScope, options: SubscribeOptions = {}): AsyncGenerator<StreamItem> {
    if (this.open >= this.maxOpen) {
      throw new TooManySubscriptionsError("events.too-many", `${this.maxOpen} event streams are open on this server: try again later`);
    }
    this.open++;
    return this.follow(scope, options);
  }

  /** The subscription; counted open from subscribe() until it ends (its first read starts it). */
  private async *follow(scope: EventScope, options: SubscribeOptions): AsyncGenerator<StreamItem> {
    let wake: (() => void) | undefined;
    let pending = true;
    const notify = () => {
      pending = true;
      wake?.();
    };
    const unsubscribe = this.transport.subscribe((notice) => {
      if (matches(scope, notice)) notify();
    });
    const signals = [this.closing.signal, ...(options.signal ? [options.signal] : [])];
    for (const signal of signals) signal.addEventListener("abort", notify);
    const ended = () => signals.some((signal) => signal.aborted);
    try {
      // Subscribed first, then the cursor read: a commit in between is read, not lost.
      let cursor = options.after ?? (await this.log.current(scope));
      while (!ended()) {
        if (!pending) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        pending = false;
        if (ended()) break;
        if (await this.log.missed(scope, cursor)) {
          cursor = await this.log.current(scope);
          yield { kind: "resync", cursor };
        }
        for (let batch = await this.log.read(scope, cursor); batch.length > 0 && !ended(); batch = await this.log.read(scope, cursor)) {
          for (const [i, { event, cursor: eventCursor }] of batch.entries()) {
            cursor = eventCursor;
            const next = batch[i + 1];
            // A reader far behind reads whole generations per batch (EventLog.read), so the last of a batch ends one.
            yield { kind: "event", event, cursor, lastOfCursor: next === undefined || compareCursors(next.cursor, cursor) !== 0 };
          }
        }
      }
    } finally {
      this.open--;
      unsubscribe();
      for (const signal of signals) signal.removeEventListener("abort", notify);
    }
  }

  /** The cursor of "now" in `scope`: a subscription after it sees every event committed after this call. */
  now(scope: EventScope): Promise<EventCursor> {
    return this.log.current(scope);
  }

  /** Ends every subscription (server shutdown): their streams finish, so draining does not wait for them. */
  close(): void {
    this.closing.abort();
  }
}
