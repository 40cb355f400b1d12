import type { ChangeEvent, RecordedEvent } from "../events/change-event.ts";
import type { EventNotice } from "../events/transport.ts";
import { sharedRepositoryId, type RepositoryName } from "../repo/layout.ts";
import { DatabaseError, type SqlAdapter, type SqlClient } from "./adapter.ts";

/** Which events a reader follows: one repository's, or its whole organisation's. */
export interface EventScope {
  org: string;
  /**
   * A repository name: an agent id (its own memory's events and those of the shared repositories
   * attached to it), or `repositories/{id}` (the shared repository's own). Undefined: every
   * repository of the organisation.
   */
  agent?: string;
}

/**
 * Where a reader is. For an organisation, the `seq` of the last event it has. For a repository,
 * the generation of its last own event the reader has (its SSE `id:`); on an agent's stream, after
 * an event of an attached shared repository, `{generation, seq}`: the agent's own generation when
 * that event was committed, and the event's seq (see AttachedCursor). 0 is "before everything".
 */
export type EventCursor = number | AttachedCursor;

/**
 * A place on an agent's stream among the events of its attached repositories. The stream is
 * ordered by (generation, seq), its own events counting as seq 0: an event of an attached
 * repository is recorded with the agent's generation at that moment, so it comes after the agent's
 * own events of that generation and before those of the next, which is commit order (append reads
 * the generations under the organisation's event lock). A plain generation G is `{G, 0}`.
 */
export interface AttachedCursor {
  generation: number;
  seq: number;
}

/** An event and where a reader that has it (and everything before it) resumes. */
export interface CursoredEvent {
  event: RecordedEvent;
  cursor: EventCursor;
}

/** `cursor` as an SSE id: `G`, `G:S` for an AttachedCursor, or an organisation's seq. */
export function cursorText(cursor: EventCursor): string {
  return typeof cursor === "number" ? String(cursor) : `${cursor.generation}:${cursor.seq}`;
}

/** An organisation stream's cursor, a seq (it never has an AttachedCursor). */
const orgSeq = (cursor: EventCursor): number => (typeof cursor === "number" ? cursor : cursor.seq);

const attachedPlace = (cursor: EventCursor): AttachedCursor => (typeof cursor === "number" ? { generation: cursor, seq: 0 } : cursor);

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

/** Agents attached to a shared repository get its events in rows of this many (a statement's parameters are bounded). */
const RECIPIENT_ROWS_PER_INSERT = 500;

interface EventColumns {
  seq: number | string;
  body: string;
}

const recordedEvent = (row: EventColumns): RecordedEvent => ({ ...(JSON.parse(row.body) as ChangeEvent), seq: Number(row.seq) });

/**
 * The recent change events of every repository (table `events`), written in the transaction that
 * commits the change, read by cursor, and pruned by age and by count per repository. What pruning
 * removes is remembered per repository (`event_horizons`), so that a reader whose cursor is older
 * learns that it missed events instead of silently skipping them. An event of a shared repository
 * is one row, on its own stream and the organisation's, and reaches the agents attached to it when
 * it was committed through `event_recipients`.
 */
export class EventLog {
  constructor(
    private readonly db: SqlAdapter,
    private readonly retention: RetentionOptions = DEFAULT_RETENTION,
  ) {}

  /**
   * Records `events` (all of repository `repo` and one commit) in the commit's transaction. On
   * PostgreSQL an advisory lock per organisation, held until the commit, makes `seq` follow commit
   * order within the organisation: without it, a transaction could take seq 5, commit after the
   * one that took 6, and a reader already at 6 would never see 5. SQLite commits one at a time.
   * A shared repository's events say which repository they are and which agents it was attached
   * to, read under the lock (see AttachedCursor), and go to each of those agents' streams.
   */
  async append(tx: SqlClient, repo: RepositoryName, events: readonly ChangeEvent[]): Promise<void> {
    if (events.length === 0) return;
    const { org, generation } = events[0];
    if (tx.dialect === "postgres") await tx.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [EVENT_ORDER_LOCK, org]);
    const sharedId = sharedRepositoryId(repo);
    const attached = sharedId === undefined ? undefined : await attachedAgents(tx, org, sharedId);
    const now = new Date().toISOString();
    for (const event of events) {
      const body = attached ? { ...event, repository: attached.repository, agents: attached.agents.map(({ agent }) => agent) } : event;
      await tx.execute("INSERT INTO events (org, agent, generation, body, created_at) VALUES ($1, $2, $3, $4, $5)", [org, repo, generation, JSON.stringify(body), now]);
    }
    if (attached && attached.agents.length > 0) await this.addRecipients(tx, org, repo, generation, attached.agents);
    if (generation % PRUNE_EVERY_GENERATIONS === 0) await this.pruneAgent(tx, org, repo, generation - this.retention.generationsPerAgent);
  }

  /** The rows that put the events of `repo`'s `generation` on the streams of `agents`. */
  private async addRecipients(tx: SqlClient, org: string, repo: RepositoryName, generation: number, agents: readonly AttachedAgent[]): Promise<void> {
    const rows = await tx.query<{ seq: number | string }>("SELECT seq FROM events WHERE org = $1 AND agent = $2 AND generation = $3", [org, repo, generation]);
    const recipients = rows.flatMap(({ seq }) => agents.map((agent) => [org, agent.agent, agent.generation, Number(seq)]));
    for (let start = 0; start < recipients.length; start += RECIPIENT_ROWS_PER_INSERT) {
      const chunk = recipients.slice(start, start + RECIPIENT_ROWS_PER_INSERT);
      const values = chunk.map((_, i) => `($${4 * i + 1}, $${4 * i + 2}, $${4 * i + 3}, $${4 * i + 4})`).join(", ");
      await tx.execute(`INSERT INTO event_recipients (org, agent, generation, seq) VALUES ${values}`, chunk.flat());
    }
  }

  /** The events after `cursor`, oldest first, at most about READ_BATCH (see read). */
  async after(scope: EventScope, cursor: EventCursor): Promise<RecordedEvent[]> {
    return (await this.read(scope, cursor)).map(({ event }) => event);
  }

  /**
   * The events after `cursor` with their cursors, oldest first, at most about READ_BATCH each of a
   * repository's own and its attached repositories': own events in whole generations (a push of
   * several refs is one generation, and its events share the SSE id).
   */
  async read(scope: EventScope, cursor: EventCursor): Promise<CursoredEvent[]> {
    if (scope.agent === undefined) {
      const rows = await this.db.query<EventColumns>("SELECT seq, body FROM events WHERE org = $1 AND seq > $2 ORDER BY seq LIMIT $3", [scope.org, orgSeq(cursor), READ_BATCH]);
      return rows.map((row) => ({ event: recordedEvent(row), cursor: Number(row.seq) }));
    }
    const place = attachedPlace(cursor);
    const own = await this.db.query<EventColumns & { generation: number | string }>(
      `SELECT seq, body, generation FROM events WHERE org = $1 AND agent = $2 AND generation > $3 AND generation <= (
         SELECT MAX(generation) FROM (SELECT generation FROM events WHERE org = $1 AND agent = $2 AND generation > $3 ORDER BY generation LIMIT $4) AS batch
       ) ORDER BY seq`,
      [scope.org, scope.agent, place.generation, READ_BATCH],
    );
    const attached = await this.db.query<EventColumns & { generation: number | string }>(
      `SELECT e.seq, e.body, r.generation FROM event_recipients r JOIN events e ON e.seq = r.seq
       WHERE r.org = $1 AND r.agent = $2 AND (r.generation > $3 OR (r.generation = $3 AND r.seq > $4))
       ORDER BY r.generation, r.seq LIMIT $5`,
      [scope.org, scope.agent, place.generation, place.seq, READ_BATCH],
    );
    const ownEvents: CursoredEvent[] = own.map((row) => ({ event: recordedEvent(row), cursor: Number(row.generation) }));
    const attachedEvents: CursoredEvent[] = attached.map((row) => ({ event: recordedEvent(row), cursor: { generation: Number(row.generation), seq: Number(row.seq) } }));
    // Each read is complete only up to its last cursor (the own one up to every attached event
    // of its last generation too, which come after it), so together they are up to the lower one.
    const lastOwn = own.at(-1);
    const lastAttached = attachedEvents.at(-1)?.cursor;
    const bounds = [...(lastOwn ? [{ generation: Number(lastOwn.generation), seq: Infinity }] : []), ...(lastAttached ? [lastAttached] : [])];
    if (bounds.length === 0) return [];
    const bound = bounds.reduce((lower, cursor) => (compareCursors(cursor, lower) < 0 ? cursor : lower));
    return [...ownEvents, ...attachedEvents]
      .filter(({ cursor }) => compareCursors(cursor, bound) <= 0)
      .sort((a, b) => compareCursors(a.cursor, b.cursor) || a.event.seq - b.event.seq);
  }

  /**
   * The cursor of "now": a new reader that starts here sees every event committed after this
   * call. For a repository, its manifest's generation (own events never carry a higher one), and
   * for an agent with events of attached repositories at that generation, the last of them.
   */
  async current(scope: EventScope): Promise<EventCursor> {
    if (scope.agent === undefined) {
      const rows = await this.db.query<{ cursor: number | string | null }>("SELECT MAX(seq) AS cursor FROM events WHERE org = $1", [scope.org]);
      return Number(rows[0]?.cursor ?? 0);
    }
    const [row] = await this.db.query<{ generation: number | string | null; seq: number | string | null }>(
      `SELECT m.generation, (SELECT MAX(r.seq) FROM event_recipients r WHERE r.org = $1 AND r.agent = $2 AND r.generation = m.generation) AS seq
       FROM (SELECT COALESCE((SELECT generation FROM manifests WHERE org = $1 AND repo = $2), 0) AS generation) AS m`,
      [scope.org, scope.agent],
    );
    const generation = Number(row.generation);
    return row.seq === null ? generation : { generation, seq: Number(row.seq) };
  }

  /** Whether events after `cursor` were pruned: a reader there must resynchronise. */
  async missed(scope: EventScope, cursor: EventCursor): Promise<boolean> {
    if (scope.agent === undefined) {
      return (await this.db.query("SELECT 1 AS missed FROM event_horizons WHERE org = $1 AND seq > $2 LIMIT 1", [scope.org, orgSeq(cursor)])).length > 0;
    }
    const place = attachedPlace(cursor);
    const rows = await this.db.query(
      "SELECT 1 AS missed FROM event_horizons WHERE org = $1 AND agent = $2 AND (generation > $3 OR (generation = $3 AND attached_seq > $4))",
      [scope.org, scope.agent, place.generation, place.seq],
    );
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
    return this.db.transaction((tx) => this.prune(tx, "created_at < $1", [cutoff]));
  }

  private async pruneAgent(tx: SqlClient, org: string, repo: RepositoryName, throughGeneration: number): Promise<void> {
    if (throughGeneration <= 0) return;
    await this.prune(tx, "org = $1 AND agent = $2 AND generation <= $3", [org, repo, throughGeneration]);
  }

  /** Deletes the events matching `condition` and where attached agents received them, raising the horizons first; returns how many events went. */
  private async prune(tx: SqlClient, condition: string, params: (string | number)[]): Promise<number> {
    await this.raiseHorizons(tx, `SELECT org, agent, MAX(generation), MAX(seq), 0 FROM events WHERE ${condition} GROUP BY org, agent`, params);
    const received = `FROM event_recipients WHERE seq IN (SELECT seq FROM events WHERE ${condition})`;
    // An agent receives events in (generation, seq) order, which is seq order: its newest pruned one is its highest seq.
    await this.raiseHorizons(tx, `SELECT org, agent, MAX(generation), MAX(seq), MAX(seq) ${received} GROUP BY org, agent`, params);
    await tx.execute(`DELETE ${received}`, params);
    return tx.execute(`DELETE FROM events WHERE ${condition}`, params);
  }

  /**
   * Raises horizons to the rows of `select` (org, agent, generation, seq, attached_seq): the
   * newest events of each stream that are about to go. The stream's place (generation,
   * attached_seq) only moves forward, and so does seq, the organisation's.
   */
  private async raiseHorizons(tx: SqlClient, select: string, params: (string | number)[]): Promise<void> {
    await tx.execute(
      `INSERT INTO event_horizons (org, agent, generation, seq, attached_seq)
       ${select}
       ON CONFLICT (org, agent) DO UPDATE SET
         generation = CASE WHEN excluded.generation > event_horizons.generation THEN excluded.generation ELSE event_horizons.generation END,
         attached_seq = CASE
           WHEN excluded.generation > event_horizons.generation THEN excluded.attached_seq
           WHEN excluded.generation = event_horizons.generation AND excluded.attached_seq > event_horizons.attached_seq THEN excluded.attached_seq
           ELSE event_horizons.attached_seq END,
         seq = CASE WHEN excluded.seq > event_horizons.seq THEN excluded.seq ELSE event_horizons.seq END`,
      params,
    );
  }
}

/** Orders cursors of one repository's stream: by generation, then seq (a plain generation has seq 0). */
export function compareCursors(a: EventCursor, b: EventCursor): number {
  const [first, second] = [attachedPlace(a), attachedPlace(b)];
  return first.generation - second.generation || first.seq - second.seq;
}

interface AttachedAgent {
  agent: string;
  /** The agent's own generation now (0 when its memory was never written). */
  generation: number;
}

/** A shared repository as its events name it, and the agents attached to it now with their generations. */
async function attachedAgents(tx: SqlClient, org: string, id: string): Promise<{ repository: { id: string; name: string }; agents: AttachedAgent[] }> {
  const [repository] = await tx.query<{ name: string }>("SELECT name FROM shared_repositories WHERE org = $1 AND id = $2", [org, id]);
  if (!repository) throw new DatabaseError("repository.unknown", `repository ${JSON.stringify(id)} does not exist`);
  const rows = await tx.query<{ agent_id: string; generation: number | string | null }>(
    `SELECT a.agent_id, m.generation FROM repository_attachments a LEFT JOIN manifests m ON m.org = a.org AND m.repo = a.agent_id
     WHERE a.org = $1 AND a.repository_id = $2 ORDER BY a.agent_id`,
    [org, id],
  );
  return { repository: { id, name: repository.name }, agents: rows.map((row) => ({ agent: row.agent_id, generation: Number(row.generation ?? 0) })) };
}
