import type { ChangeEvent, RecordedEvent } from "../events/change-event.ts";
import type { EventNotice } from "../events/transport.ts";
import type { SqlAdapter, SqlClient } from "./adapter.ts";

/** Which events a reader follows: one agent's, or its whole organisation's. */
export interface EventScope {
  org: string;
  /** Undefined: every agent of the organisation. */
  agent?: string;
}

/**
 * Where a reader is: for an agent, the generation of the last event it has (its SSE `id:`); for an
 * organisation, the `seq` of the last event it has. 0 is "before everything".
 */
export type EventCursor = number;

export interface RetentionOptions {
  /** Events older than this are pruned (ms). */
  maxAgeMs: number;
  /** An agent keeps the events of its last this many generations. */
  generationsPerAgent: number;
}

export const DEFAULT_RETENTION: RetentionOptions = { maxAgeMs: 7 * 86_400_000, generationsPerAgent: 1000 };

/** Pruning by count runs on every this-many-th generation of an agent, so that a commit rarely pays for it. */
const PRUNE_EVERY_GENERATIONS = 64;

/** Any fixed number: the class of the advisory locks that order an organisation's events (see append). */
const EVENT_ORDER_LOCK = 0x53474576;

/** Most rows one read returns; a reader far behind reads again. */
const READ_BATCH = 200;

interface EventColumns {
  seq: number | string;
  body: string;
}

/**
 * The recent change events of every repository (table `events`), written in the transaction that
 * commits the change, read by cursor, and pruned by age and by count per agent. What pruning
 * removes is remembered per agent (`event_horizons`), so that a reader whose cursor is older learns
 * that it missed events instead of silently skipping them.
 */
export class EventLog {
  constructor(
    private readonly db: SqlAdapter,
    private readonly retention: RetentionOptions = DEFAULT_RETENTION,
  ) {}

  /**
   * Records `events` (all of one repository and one commit) in the commit's transaction. On
   * PostgreSQL an advisory lock per organisation, held until the commit, makes `seq` follow commit
   * order within the organisation: without it, a transaction could take seq 5, commit after the
   * one that took 6, and a reader already at 6 would never see 5. SQLite commits one at a time.
   */
  async append(tx: SqlClient, events: readonly ChangeEvent[]): Promise<void> {
    if (events.length === 0) return;
    const { org, agent, generation } = events[0];
    if (tx.dialect === "postgres") await tx.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [EVENT_ORDER_LOCK, org]);
    const now = new Date().toISOString();
    for (const event of events) {
      await tx.execute("INSERT INTO events (org, agent, generation, body, created_at) VALUES ($1, $2, $3, $4, $5)", [org, agent, generation, JSON.stringify(event), now]);
    }
    if (generation % PRUNE_EVERY_GENERATIONS === 0) await this.pruneAgent(tx, org, agent, generation - this.retention.generationsPerAgent);
  }

  /**
   * The events after `cursor`, oldest first, at most about READ_BATCH: for an agent, whole
   * generations (a push of several refs is one generation, and its events share the SSE id).
   */
  async after(scope: EventScope, cursor: EventCursor): Promise<RecordedEvent[]> {
    const rows =
      scope.agent === undefined
        ? await this.db.query<EventColumns>("SELECT seq, body FROM events WHERE org = $1 AND seq > $2 ORDER BY seq LIMIT $3", [scope.org, cursor, READ_BATCH])
        : await this.db.query<EventColumns>(
            `SELECT seq, body FROM events WHERE org = $1 AND agent = $2 AND generation > $3 AND generation <= (
               SELECT MAX(generation) FROM (SELECT generation FROM events WHERE org = $1 AND agent = $2 AND generation > $3 ORDER BY generation LIMIT $4) AS batch
             ) ORDER BY seq`,
            [scope.org, scope.agent, cursor, READ_BATCH],
          );
    return rows.map((row) => ({ ...(JSON.parse(row.body) as ChangeEvent), seq: Number(row.seq) }));
  }

  /**
   * The cursor of "now": a new reader that starts here sees every event committed after this
   * call. For an agent, its manifest's generation (events never carry a higher one).
   */
  async current(scope: EventScope): Promise<EventCursor> {
    const rows =
      scope.agent === undefined
        ? await this.db.query<{ cursor: number | string | null }>("SELECT MAX(seq) AS cursor FROM events WHERE org = $1", [scope.org])
        : await this.db.query<{ cursor: number | string | null }>("SELECT generation AS cursor FROM manifests WHERE org = $1 AND repo = $2", [scope.org, scope.agent]);
    return Number(rows[0]?.cursor ?? 0);
  }

  /** Whether events after `cursor` were pruned: a reader there must resynchronise. */
  async missed(scope: EventScope, cursor: EventCursor): Promise<boolean> {
    const rows =
      scope.agent === undefined
        ? await this.db.query("SELECT 1 AS missed FROM event_horizons WHERE org = $1 AND seq > $2 LIMIT 1", [scope.org, cursor])
        : await this.db.query("SELECT 1 AS missed FROM event_horizons WHERE org = $1 AND agent = $2 AND generation > $3", [scope.org, scope.agent, cursor]);
    return rows.length > 0;
  }

  /** The highest seq recorded, of every organisation (0 when none): where a transport's polling starts. */
  async newestSeq(): Promise<number> {
    const rows = await this.db.query<{ seq: number | string | null }>("SELECT MAX(seq) AS seq FROM events");
    return Number(rows[0]?.seq ?? 0);
  }

  /** Which repositories recorded events after `seq`, of every organisation, oldest first: what a polling transport announces. */
  async recordedAfter(seq: number): Promise<(EventNotice & { seq: number })[]> {
    const rows = await this.db.query<{ seq: number | string; org: string; agent: string; generation: number | string }>(
      "SELECT seq, org, agent, generation FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
      [seq, READ_BATCH],
    );
    return rows.map((row) => ({ seq: Number(row.seq), org: row.org, agent: row.agent, generation: Number(row.generation) }));
  }

  /** Prunes the events older than the retention's age, noting the horizons; returns how many it removed. */
  async pruneOld(now = Date.now()): Promise<number> {
    const cutoff = new Date(now - this.retention.maxAgeMs).toISOString();
    return this.db.transaction(async (tx) => {
      await this.raiseHorizons(tx, "created_at < $1", [cutoff]);
      return tx.execute("DELETE FROM events WHERE created_at < $1", [cutoff]);
    });
  }

  private async pruneAgent(tx: SqlClient, org: string, agent: string, throughGeneration: number): Promise<void> {
    if (throughGeneration <= 0) return;
    const condition = "org = $1 AND agent = $2 AND generation <= $3";
    await this.raiseHorizons(tx, condition, [org, agent, throughGeneration]);
    await tx.execute(`DELETE FROM events WHERE ${condition}`, [org, agent, throughGeneration]);
  }

  /** Raises each agent's horizon to the newest of its events matching `condition`, which are about to go. */
  private async raiseHorizons(tx: SqlClient, condition: string, params: (string | number)[]): Promise<void> {
    await tx.execute(
      `INSERT INTO event_horizons (org, agent, generation, seq)
       SELECT org, agent, MAX(generation), MAX(seq) FROM events WHERE ${condition} GROUP BY org, agent
       ON CONFLICT (org, agent) DO UPDATE SET
         generation = CASE WHEN excluded.generation > event_horizons.generation THEN excluded.generation ELSE event_horizons.generation END,
         seq = CASE WHEN excluded.seq > event_horizons.seq THEN excluded.seq ELSE event_horizons.seq END`,
      params,
    );
  }
}
