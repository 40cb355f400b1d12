/**
 * What a transport carries: that a repository committed events up to a generation. It is small on
 * purpose (a PostgreSQL NOTIFY payload is limited to 8000 bytes); readers read the events
 * themselves from the table, by cursor, so a notice lost or repeated never loses or repeats events.
 */
export interface EventNotice {
  org: string;
  /** The repository that committed: an agent id, or `repositories/{id}`. */
  agent: string;
  generation: number;
}

/** Called with each notice; undefined means "anything may have changed" (a reconnect): re-read everything. */
export type NoticeListener = (notice: EventNotice | undefined) => void;

/**
 * Carries notices of committed events to every subscriber of every instance that shares the
 * database (DESIGN.md, "Architecture": src/events). Implementations: in-process only, SQLite
 * across processes by polling, PostgreSQL LISTEN/NOTIFY; chosen by the database URL (open.ts).
 */
export interface EventTransport {
  /**
   * This process committed events: tell its subscribers now. Other processes learn of them
   * through the database (see announceInTransaction).
   */
  committed(notice: EventNotice): void;
  subscribe(listener: NoticeListener): () => void;
  close(): Promise<void>;
}

/** The listeners of one transport. */
export class Listeners {
  private readonly listeners = new Set<NoticeListener>();

  add(listener: NoticeListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  emit(notice: EventNotice | undefined): void {
    for (const listener of this.listeners) listener(notice);
  }
}

/** Subscribers in this process only: what a database no other process opens (`sqlite::memory:`) needs. */
export class LocalTransport implements EventTransport {
  protected readonly listeners = new Listeners();

  committed(notice: EventNotice): void {
    this.listeners.emit(notice);
  }

  subscribe(listener: NoticeListener): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {}
}
