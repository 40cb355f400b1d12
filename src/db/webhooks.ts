import type { RecordedEvent } from "../events/change-event.ts";
import { DatabaseError, toDate, type SqlAdapter } from "./adapter.ts";

/** A webhook as `stategit webhook list` shows it (its secret never leaves the database but to sign). */
export interface Webhook {
  id: string;
  org: string;
  url: string;
  createdAt: Date;
  /** The HTTP status of the last delivery attempt (undefined: none yet, or no answer). */
  lastStatus?: number;
  /** Why the last attempt failed; undefined when it succeeded. */
  lastError?: string;
  lastAttemptAt?: Date;
  /** Since when its oldest failing delivery has been failing; undefined when none is. */
  failingSince?: Date;
}

/** What a delivering instance holds while it works on one webhook and agent. */
export interface DeliveryClaim {
  webhookId: string;
  agent: string;
  url: string;
  secret: string;
  /** The last delivered event's seq: deliveries continue after it. */
  deliveredSeq: number;
  /** Failed attempts at the next event so far. */
  attempts: number;
  failingSince?: Date;
}

/** A webhook and agent with events to deliver now. */
export interface DueDelivery {
  webhookId: string;
  agent: string;
}

/** How many rows of due work one look returns; the rest are found on the next. */
const DUE_BATCH = 100;

interface WebhookColumns {
  id: string;
  org: string;
  url: string;
  created_at: unknown;
  last_status: number | null;
  last_error: string | null;
  last_attempt_at: unknown;
  failing_since: unknown;
}

const optionalDate = (value: unknown) => (value === null || value === undefined ? undefined : toDate(value));

/**
 * Webhooks (`webhooks`) and how far each has delivered each agent's events (`webhook_cursors`).
 * Deliveries of one webhook and agent are in event order, by one instance at a time: a claim is a
 * lease, taken by a conditional UPDATE (the same statement on SQLite and PostgreSQL), that other
 * instances wait out. A delivery that failed blocks that agent's later events until it succeeds
 * or is given up.
 */
export class WebhookStore {
  constructor(private readonly db: SqlAdapter) {}

  /** Adds a webhook of `org` for the events committed from now on; returns its id. */
  async add(org: string, url: string, secret: string): Promise<string> {
    const id = `wh_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    return this.db.transaction(async (tx) => {
      const known = await tx.query("SELECT 1 AS known FROM organisations WHERE name = $1", [org]);
      if (known.length === 0) throw new DatabaseError("org.unknown", `organisation ${org} does not exist`);
      // The organisation's own newest: its visible events are a prefix of its seq order (EventLog.append).
      const [{ seq }] = await tx.query<{ seq: number | string | null }>("SELECT MAX(seq) AS seq FROM events WHERE org = $1", [org]);
      await tx.execute("INSERT INTO webhooks (id, org, url, secret, start_seq, discovered_seq, created_at) VALUES ($1, $2, $3, $4, $5, $5, $6)", [
        id,
        org,
        url,
        secret,
        Number(seq ?? 0),
        new Date().toISOString(),
      ]);
      return id;
    });
  }

  /** Whether there was such a webhook; its delivery state goes with it. */
  async remove(id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.execute("DELETE FROM webhook_cursors WHERE webhook_id = $1", [id]);
      return (await tx.execute("DELETE FROM webhooks WHERE id = $1", [id])) > 0;
    });
  }

  /** The webhooks of `org` (all when undefined), oldest first. */
  async list(org?: string): Promise<Webhook[]> {
    const rows = await this.db.query<WebhookColumns>(
      `SELECT w.id, w.org, w.url, w.created_at, w.last_status, w.last_error, w.last_attempt_at,
         (SELECT MIN(c.failing_since) FROM webhook_cursors c WHERE c.webhook_id = w.id) AS failing_since
       FROM webhooks w WHERE ($1 = '' OR w.org = $1) ORDER BY w.created_at, w.id`,
      [org ?? ""],
    );
    return rows.map((row) => ({
      id: row.id,
      org: row.org,
      url: row.url,
      createdAt: toDate(row.created_at),
      lastStatus: row.last_status ?? undefined,
      lastError: row.last_error ?? undefined,
      lastAttemptAt: optionalDate(row.last_attempt_at),
      failingSince: optionalDate(row.failing_since),
    }));
  }

  /** Whether any webhook exists: when none does, deliverers look for no work. */
  async any(): Promise<boolean> {
    return (await this.db.query("SELECT 1 AS any FROM webhooks LIMIT 1")).length > 0;
  }

  /** How many webhook and agent pairs are failing now (retrying). */
  async failingCount(): Promise<number> {
    const [{ count }] = await this.db.query<{ count: number | string }>("SELECT COUNT(*) AS count FROM webhook_cursors WHERE failing_since IS NOT NULL");
    return Number(count);
  }

  /**
   * Gives each webhook a cursor row for every agent with events since it last looked, so that due()
   * need only follow cursors, not scan the retained events. An organisation's visible events are a
   * prefix of its seq order (see EventLog.append), so none can appear below the bound later.
   */
  async discover(): Promise<void> {
    const webhooks = await this.db.query<{ id: string; org: string; discovered_seq: number | string }>("SELECT id, org, discovered_seq FROM webhooks");
    for (const webhook of webhooks) {
      const [{ bound }] = await this.db.query<{ bound: number | string | null }>("SELECT MAX(seq) AS bound FROM events WHERE org = $1", [webhook.org]);
      const discovered = Number(webhook.discovered_seq);
      if (bound === null || Number(bound) <= discovered) continue;
      await this.db.transaction(async (tx) => {
        await tx.execute(
          `INSERT INTO webhook_cursors (webhook_id, agent, delivered_seq)
           SELECT DISTINCT CAST($1 AS TEXT), agent, CAST($4 AS BIGINT) FROM events WHERE org = $2 AND seq > $3 AND seq <= $5
           ON CONFLICT (webhook_id, agent) DO NOTHING`,
          [webhook.id, webhook.org, discovered, discovered, Number(bound)],
        );
        await tx.execute("UPDATE webhooks SET discovered_seq = $2 WHERE id = $1 AND discovered_seq < $2", [webhook.id, Number(bound)]);
      });
    }
  }

  /** The webhooks and agents that have undelivered events, are not waiting to retry, and are not leased. */
  async due(now: Date): Promise<DueDelivery[]> {
    const rows = await this.db.query<{ webhook_id: string; agent: string }>(
      `SELECT c.webhook_id, c.agent FROM webhook_cursors c JOIN webhooks w ON w.id = c.webhook_id
       WHERE (c.next_attempt_at IS NULL OR c.next_attempt_at <= $1)
         AND (c.lease_until IS NULL OR c.lease_until <= $1)
         AND EXISTS (SELECT 1 FROM events e WHERE e.org = w.org AND e.agent = c.agent AND e.seq > c.delivered_seq)
       LIMIT $2`,
      [now.toISOString(), DUE_BATCH],
    );
    return rows.map((row) => ({ webhookId: row.webhook_id, agent: row.agent }));
  }

  /** Takes the lease of one webhook and agent until `until`, unless another instance holds it or it waits to retry. */
  async claim(due: DueDelivery, owner: string, now: Date, until: Date): Promise<DeliveryClaim | undefined> {
    return this.db.transaction(async (tx) => {
      const taken = await tx.execute(
        `UPDATE webhook_cursors SET lease_owner = $3, lease_until = $4
         WHERE webhook_id = $1 AND agent = $2 AND (lease_until IS NULL OR lease_until <= $5) AND (next_attempt_at IS NULL OR next_attempt_at <= $5)`,
        [due.webhookId, due.agent, owner, until.toISOString(), now.toISOString()],
      );
      if (taken === 0) return undefined;
      const rows = await tx.query<{ url: string; secret: string; delivered_seq: number | string; attempts: number | string; failing_since: unknown }>(
        `SELECT w.url, w.secret, c.delivered_seq, c.attempts, c.failing_since
         FROM webhook_cursors c JOIN webhooks w ON w.id = c.webhook_id WHERE c.webhook_id = $1 AND c.agent = $2`,
        [due.webhookId, due.agent],
      );
      const row = rows[0];
      return {
        ...due,
        url: row.url,
        secret: row.secret,
        deliveredSeq: Number(row.delivered_seq),
        attempts: Number(row.attempts),
        failingSince: optionalDate(row.failing_since),
      };
    });
  }

  /** The claim's next event to deliver, if any. */
  async nextEvent(claim: DeliveryClaim): Promise<RecordedEvent | undefined> {
    const rows = await this.db.query<{ seq: number | string; body: string }>(
      `SELECT e.seq, e.body FROM events e JOIN webhooks w ON w.org = e.org
       WHERE w.id = $1 AND e.agent = $2 AND e.seq > $3 ORDER BY e.seq LIMIT 1`,
      [claim.webhookId, claim.agent, claim.deliveredSeq],
    );
    return rows.length === 0 ? undefined : { ...JSON.parse(rows[0].body), seq: Number(rows[0].seq) };
  }

  /**
   * Records the outcome of an attempt at the event `seq` while holding the lease: delivered (or given
   * up: `advance`), or failed and to be retried at `retryAt`. False when the lease was lost meanwhile.
   */
  async recordAttempt(
    claim: DeliveryClaim,
    owner: string,
    attempt: { seq: number; advance: boolean; retryAt?: Date; failingSince?: Date; until: Date; status?: number; error?: string; at: Date },
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const changed = attempt.advance
        ? await tx.execute(
            `UPDATE webhook_cursors SET delivered_seq = $4, attempts = 0, next_attempt_at = NULL, failing_since = NULL, lease_until = $5
             WHERE webhook_id = $1 AND agent = $2 AND lease_owner = $3`,
            [claim.webhookId, claim.agent, owner, attempt.seq, attempt.until.toISOString()],
          )
        : await tx.execute(
            `UPDATE webhook_cursors SET attempts = attempts + 1, next_attempt_at = $4, failing_since = $5, lease_owner = NULL, lease_until = NULL
             WHERE webhook_id = $1 AND agent = $2 AND lease_owner = $3`,
            [claim.webhookId, claim.agent, owner, attempt.retryAt!.toISOString(), attempt.failingSince!.toISOString()],
          );
      if (changed === 0) return false;
      await tx.execute("UPDATE webhooks SET last_status = $2, last_error = $3, last_attempt_at = $4 WHERE id = $1", [
        claim.webhookId,
        attempt.status ?? null,
        attempt.error ?? null,
        attempt.at.toISOString(),
      ]);
      return true;
    });
  }

  /** Gives the lease back (nothing left to deliver, or shutting down). */
  async release(claim: DeliveryClaim, owner: string): Promise<void> {
    await this.db.execute("UPDATE webhook_cursors SET lease_owner = NULL, lease_until = NULL WHERE webhook_id = $1 AND agent = $2 AND lease_owner = $3", [
      claim.webhookId,
      claim.agent,
      owner,
    ]);
  }
}
