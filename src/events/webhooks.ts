/**
 * Webhook delivery (README, "Webhooks"): each change event of a webhook's organisation is POSTed
 * to its URL as JSON, signed, at least once, in order per agent, retried with exponential backoff
 * for a bounded time. The delivery state lives in the database (WebhookStore), so a restart
 * resumes it and several instances share the work without delivering one event twice at once.
 */
import { createHmac } from "node:crypto";
import type { DeliveryClaim, DueDelivery, WebhookStore } from "../db/webhooks.ts";
import type { RecordedEvent } from "./change-event.ts";
import type { EventTransport } from "./transport.ts";

/** What delivery reports (the server's metrics implement it). */
export interface WebhookMetrics {
  delivered(): void;
  failed(): void;
  gaveUp(): void;
  /** Webhook and agent pairs whose delivery is failing now. */
  failing(count: number): void;
}

export interface WebhookDeliveryOptions {
  /** How long a failing event is retried before it is given up (`--webhook-retry-for`). */
  retryForMs: number;
  /** Sent as User-Agent. */
  userAgent: string;
  metrics?: WebhookMetrics;
  /** Where unexpected failures of the delivery loop go (the database, mostly). */
  onError: (error: unknown) => void;
}

export const SIGNATURE_HEADER = "X-Stategit-Signature";
export const EVENT_ID_HEADER = "X-Stategit-Event-Id";

/** A receiver gets this long to answer; past it the attempt failed and is retried. */
const POST_TIMEOUT_MS = 10_000;
/** A claim outlives the longest attempt, so that another instance takes it over only when this one is gone. */
const LEASE_MS = 3 * POST_TIMEOUT_MS;
/** Retries wait 1 s, 2 s, 4 s… up to 5 minutes. */
const FIRST_RETRY_MS = 1000;
const LONGEST_RETRY_MS = 5 * 60_000;
/** How often due retries and other instances' events are looked for, beside this instance's own notices. */
const TICK_MS = 1000;
/** Webhook and agent pairs delivered at once. */
const CONCURRENT_DELIVERIES = 8;

/** `sha256=` and the hex HMAC-SHA256 of the body under the webhook's secret. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export function retryDelayMs(failedAttempts: number): number {
  return Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, failedAttempts - 1));
}

type AttemptOutcome = { ok: true; status: number } | { ok: false; status?: number; error: string };

export class WebhookDeliverer {
  /** This instance, as the owner of its leases. */
  private readonly owner = `instance-${crypto.randomUUID()}`;
  private readonly stopping = new AbortController();
  private timer: ReturnType<typeof setInterval> | undefined;
  private unsubscribe: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly store: WebhookStore,
    private readonly options: WebhookDeliveryOptions,
  ) {}

  /** Delivers from now on: on each notice of `transport`, and every TICK_MS for retries. */
  start(transport: EventTransport): void {
    this.unsubscribe = transport.subscribe(() => this.kick());
    this.timer = setInterval(() => this.kick(), TICK_MS);
    this.timer.unref();
    this.kick();
  }

  /** Stops: attempts in flight are cut off and their leases given back (the events are delivered again later). */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.timer);
    this.unsubscribe?.();
    await this.running;
  }

  private kick(): void {
    if (this.stopping.signal.aborted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.deliverDue()
      .catch((error: unknown) => this.options.onError(error))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async deliverDue(): Promise<void> {
    if (!(await this.store.any())) return;
    await this.store.discover();
    const due = await this.store.due(new Date());
    for (let i = 0; i < due.length && !this.stopping.signal.aborted; i += CONCURRENT_DELIVERIES) {
      await Promise.all(due.slice(i, i + CONCURRENT_DELIVERIES).map((one) => this.deliverAgent(one)));
    }
    this.options.metrics?.failing(await this.store.failingCount());
  }

  /** Delivers one webhook's events of one agent, in order, until none is left or one fails. */
  private async deliverAgent(due: DueDelivery): Promise<void> {
    const now = new Date();
    const claim = await this.store.claim(due, this.owner, now, new Date(now.getTime() + LEASE_MS));
    if (!claim) return;
    for (;;) {
      const event = await this.store.nextEvent(claim);
      if (!event || this.stopping.signal.aborted) return this.store.release(claim, this.owner);
      const outcome = await this.post(claim, event);
      // An attempt cut off by stop() tells nothing about the receiver: it is made again later.
      if (!outcome.ok && this.stopping.signal.aborted) return this.store.release(claim, this.owner);
      if (!(await this.record(claim, event, outcome))) return;
    }
  }

  /** Records an attempt (then counts it); true when delivery of this agent goes on with the next event. */
  private async record(claim: DeliveryClaim, event: RecordedEvent, outcome: AttemptOutcome): Promise<boolean> {
    const metrics = this.options.metrics;
    const at = new Date();
    const until = new Date(at.getTime() + LEASE_MS);
    if (outcome.ok) {
      const goesOn = await this.advance(claim, event, { seq: event.seq, advance: true, until, status: outcome.status, at });
      metrics?.delivered();
      return goesOn;
    }
    const failingSince = claim.failingSince ?? at;
    if (at.getTime() - failingSince.getTime() >= this.options.retryForMs) {
      const error = `gave up on event ${event.seq} after failing for ${Math.round((at.getTime() - failingSince.getTime()) / 1000)} s: ${outcome.error}`;
      const goesOn = await this.advance(claim, event, { seq: event.seq, advance: true, until, status: outcome.status, error, at });
      metrics?.gaveUp();
      return goesOn;
    }
    const retryAt = new Date(at.getTime() + retryDelayMs(claim.attempts + 1));
    await this.store.recordAttempt(claim, this.owner, { seq: event.seq, advance: false, retryAt, failingSince, until, status: outcome.status, error: outcome.error, at });
    metrics?.failed();
    return false;
  }

  private async advance(claim: DeliveryClaim, event: RecordedEvent, attempt: Parameters<WebhookStore["recordAttempt"]>[2]): Promise<boolean> {
    if (!(await this.store.recordAttempt(claim, this.owner, attempt))) return false;
    claim.deliveredSeq = event.seq;
    claim.attempts = 0;
    claim.failingSince = undefined;
    return true;
  }

  private async post(claim: DeliveryClaim, event: RecordedEvent): Promise<AttemptOutcome> {
    const body = JSON.stringify(event);
    try {
      const response = await fetch(claim.url, {
        method: "POST",
        body,
        headers: {
          "Content-Type": "application/json",
          "User-Agent": this.options.userAgent,
          [EVENT_ID_HEADER]: String(event.seq),
          [SIGNATURE_HEADER]: signature(claim.secret, body),
        },
        // Only the configured URL is ever contacted: a redirect is an answer, not a new target.
        redirect: "manual",
        signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(POST_TIMEOUT_MS)]),
      });
      await response.body?.cancel();
      if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
      return { ok: false, status: response.status, error: `HTTP ${response.status}` };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }
}
