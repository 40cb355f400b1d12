/**
 * Server-Sent Events of change events (README, "Change events"): `event: change` with the event as
 * JSON, `event: resync` when the reader's cursor is older than the retention window, and a comment
 * line as heartbeat. `id:` is the stream's cursor: an agent's generation, or an organisation's seq.
 */
import type { EventCursor, EventScope } from "../db/events.ts";
import { GitError } from "../git/errors.ts";
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

/** The cursor to resume after: the `Last-Event-ID` header (what EventSource sends on reconnect), else `?last_event_id=`. */
export function resumeCursor(request: Request): EventCursor | undefined {
  const text = request.headers.get("last-event-id") ?? new URL(request.url).searchParams.get("last_event_id") ?? undefined;
  if (text === undefined || text === "") return undefined;
  const cursor = Number(text);
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(cursor)) {
    throw new EventCursorError("cursor.invalid", `Last-Event-ID must be an event id this server sent (a whole number), got ${JSON.stringify(text.slice(0, 40))}`);
  }
  return cursor;
}

/**
 * In SSE an event without `id:` keeps the previous id, so the events of one generation (a push of
 * several refs) carry the id only on their last: a reader cut off among them resumes before the
 * generation and receives all of it again, rather than missing its rest.
 */
function frame(item: StreamItem): string {
  if (item.kind === "resync") return `event: resync\nid: ${item.cursor}\ndata: ${JSON.stringify({ cursor: item.cursor })}\n\n`;
  return `event: change\n${item.lastOfCursor ? `id: ${item.cursor}\n` : ""}data: ${JSON.stringify(item.event)}\n\n`;
}

/**
 * The SSE response of `scope`'s events, resuming after the request's Last-Event-ID; for the JSON
 * API's routes and the web page alike, once they have decided the organisation. Without a
 * Last-Event-ID the stream starts at the present, fixed before the response is returned: a client
 * that writes once it has the headers sees its write. Throws EventCursorError on a malformed
 * Last-Event-ID. The stream ends when the client goes away or the streams are closed (shutdown).
 */
export async function eventStreamResponse(streams: EventStreams, scope: EventScope, request: Request, options: EventStreamOptions): Promise<Response> {
  const after = resumeCursor(request) ?? (await streams.now(scope));
  const gone = new AbortController();
  const subscription = streams.subscribe(scope, { after, signal: gone.signal });
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        if (!gone.signal.aborted) controller.enqueue(encoder.encode(text));
      };
      send(`retry: ${RECONNECT_MS}\n: stategit events of ${scope.agent === undefined ? `organisation ${scope.org}` : `agent ${scope.agent}`}\n\n`);
      heartbeat = setInterval(() => send(": heartbeat\n\n"), options.heartbeatMs);
      (async () => {
        try {
          for await (const item of subscription) send(frame(item));
        } catch (error) {
          // A database failure ends the stream; the client reconnects with its Last-Event-ID.
          send(`: stream ended: ${(error as Error).message.replace(/\s+/g, " ")}\n\n`);
        } finally {
          clearInterval(heartbeat);
          if (!gone.signal.aborted) controller.close();
        }
      })();
    },
    cancel() {
      gone.abort();
      clearInterval(heartbeat);
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
