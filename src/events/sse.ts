/**
 * Server-Sent Events of change events (README, "Change events"): `event: change` with the event as
 * JSON, `event: resync` when the reader's cursor is older than the retention window, and a comment
 * line as heartbeat. `id:` is the stream's cursor: a repository's generation (`G:S` after an event
 * of a shared repository on an attached agent's stream), or an organisation's seq.
 */
import { cursorText, type EventCursor, type EventScope } from "../db/events.ts";
import { GitError } from "../git/errors.ts";
import { sharedRepositoryId } from "../repo/layout.ts";
import type { EventStreams, StreamItem } from "./streams.ts";

/** Proxies close connections idle for 30-60 s; a comment line every 15 s keeps them open. */
export const DEFAULT_HEARTBEAT_MS = 15_000;

/** How long a client waits before reconnecting (the SSE `retry:` field), ms. */
const RECONNECT_MS = 1000;

export interface EventStreamOptions {
  heartbeatMs: number;
}

/** A `Last-Event-ID` that is not a cursor: code `cursor.invalid`. */
export class EventCursorError extends GitError {}

const encoder = new TextEncoder();

/**
 * The cursor of `scope` to resume after: the `Last-Event-ID` header (what EventSource sends on
 * reconnect), else `?last_event_id=`. A repository's stream also takes `G:S` (an AttachedCursor).
 */
export function resumeCursor(request: Request, scope: EventScope): EventCursor | undefined {
  const text = request.headers.get("last-event-id") ?? new URL(request.url).searchParams.get("last_event_id") ?? undefined;
  if (text === undefined || text === "") return undefined;
  const parts = /^(\d{1,16})(?::(\d{1,16}))?$/.exec(text);
  const [generation, seq] = [Number(parts?.[1]), Number(parts?.[2] ?? 0)];
  if (!parts || (parts[2] !== undefined && scope.agent === undefined) || !Number.isSafeInteger(generation) || !Number.isSafeInteger(seq)) {
    const form = scope.agent === undefined ? "a whole number" : "a whole number, or two joined by a colon";
    throw new EventCursorError("cursor.invalid", `Last-Event-ID must be an event id this server sent (${form}), got ${JSON.stringify(text.slice(0, 40))}`);
  }
  return parts[2] === undefined ? generation : { generation, seq };
}

/**
 * In SSE an event without `id:` keeps the previous id, so the events of one generation (a push of
 * several refs) carry the id only on their last: a reader cut off among them resumes before the
 * generation and receives all of it again, rather than missing its rest.
 */
function frame(item: StreamItem): string {
  const id = cursorText(item.cursor);
  if (item.kind === "resync") return `event: resync\nid: ${id}\ndata: ${JSON.stringify({ cursor: typeof item.cursor === "number" ? item.cursor : id })}\n\n`;
  return `event: change\n${item.lastOfCursor ? `id: ${id}\n` : ""}data: ${JSON.stringify(item.event)}\n\n`;
}

type ReadItem = { kind: "item"; value: StreamItem } | { kind: "done" } | { kind: "failed"; message: string };

/** The subscription's next item, never rejecting (it may be read long after, or never). */
function readAhead(subscription: AsyncGenerator<StreamItem>): Promise<ReadItem> {
  return subscription.next().then(
    (next): ReadItem => (next.done ? { kind: "done" } : { kind: "item", value: next.value }),
    (error: unknown): ReadItem => ({ kind: "failed", message: (error as Error).message }),
  );
}

/**
 * The SSE response of `scope`'s events, resuming after the request's Last-Event-ID; for the JSON
 * API's routes and the web page alike, once they have decided the organisation. Without a
 * Last-Event-ID the stream starts at the present, fixed before the response is returned: a client
 * that writes once it has the headers sees its write. Throws EventCursorError on a malformed
 * Last-Event-ID. The stream ends when the client goes away or the streams are closed (shutdown).
 */
export async function eventStreamResponse(streams: EventStreams, scope: EventScope, request: Request, options: EventStreamOptions): Promise<Response> {
  const after = resumeCursor(request, scope) ?? (await streams.now(scope));
  const gone = new AbortController();
  const subscription = streams.subscribe(scope, { after, signal: gone.signal });
  // Started now, so that cancel() can always end it (a never-started generator ignores return()); one item ahead.
  let next = readAhead(subscription);
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const end = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    clearInterval(heartbeat);
    if (!gone.signal.aborted) controller.close();
  };
  // Events are read when the client has taken what was sent (pull): a client that stops reading
  // holds one event in memory, not everything committed since.
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`retry: ${RECONNECT_MS}\n: stategit events of ${scope.agent === undefined ? `organisation ${scope.org}` : sharedRepositoryId(scope.agent) === undefined ? `agent ${scope.agent}` : `repository ${sharedRepositoryId(scope.agent)}`}\n\n`));
      heartbeat = setInterval(() => {
        if (!gone.signal.aborted && (controller.desiredSize ?? 0) > 0) controller.enqueue(encoder.encode(": heartbeat\n\n"));
      }, options.heartbeatMs);
    },
    async pull(controller) {
      const item = await next;
      if (item.kind === "done") return end(controller);
      if (item.kind === "failed") {
        // A database failure ends the stream; the client reconnects with its Last-Event-ID.
        if (!gone.signal.aborted) controller.enqueue(encoder.encode(`: stream ended: ${item.message.replace(/\s+/g, " ")}\n\n`));
        return end(controller);
      }
      next = readAhead(subscription);
      if (!gone.signal.aborted) controller.enqueue(encoder.encode(frame(item.value)));
    },
    cancel() {
      gone.abort();
      clearInterval(heartbeat);
      // A subscription waiting at a yield ends (and is uncounted) only when told to.
      void subscription.return(undefined);
    },
  });
  return new Response(body, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache",
      // nginx buffers responses unless told not to, which would hold events back.
      "X-Accel-Buffering": "no",
    },
  });
}
