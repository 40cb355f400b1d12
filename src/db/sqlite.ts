import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseError, type SqlAdapter, type SqlClient, type SqlValue } from "./adapter.ts";
import { WalIndexWatch } from "./wal-index.ts";

const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating it and its directory if needed) the SQLite database at `path`; `:memory:` works too.
 *
 * Within one process, every opener of a file shares one connection (and closing releases it when
 * the last opener closes): a second connection would wait synchronously, blocking the event loop,
 * for the write lock of a transaction that needs that loop to finish.
 */
export function openSqlite(path: string): SqlAdapter {
  const sharedPath = path === ":memory:" ? undefined : resolve(path);
  const existing = sharedPath === undefined ? undefined : openFiles.get(sharedPath);
  if (existing) {
    existing.openers++;
    return existing;
  }
  const db = connect(path);
  const commits = sharedPath !== undefined && inWalMode(db) ? new WalIndexWatch(sharedPath) : undefined;
  const adapter = new SqliteAdapter(db, commits, () => {
    commits?.close();
    if (sharedPath !== undefined) openFiles.delete(sharedPath);
  });
  if (sharedPath !== undefined) openFiles.set(sharedPath, adapter);
  return adapter;
}

const openFiles = new Map<string, SqliteAdapter>();

/** False where SQLite could not switch to WAL (a file system without shared memory): no commit watch then. */
function inWalMode(db: Database): boolean {
  const row = db.query("PRAGMA journal_mode").get() as { journal_mode: string } | null;
  return row?.journal_mode === "wal";
}

function connect(path: string): Database {
  let db: Database;
  try {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { create: true });
    // WAL lets readers run beside the one writer; NORMAL synchronous is durable across process
    // crashes in WAL mode. Another process's write lock is waited for, up to the busy timeout.
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
  } catch (error) {
    throw new DatabaseError("db.connect", `cannot open SQLite database ${path}: ${(error as Error).message}`);
  }
  return db;
}

/**
 * bun:sqlite is synchronous and has one connection, so a transaction that awaits would let other
 * callers' statements run inside it: while one is open, other statements wait for it to end.
 */
class SqliteAdapter implements SqlAdapter {
  readonly dialect = "sqlite";
  private readonly direct: SqlClient;
  private openTransaction: Promise<unknown> | undefined;
  openers = 1;

  constructor(
    private readonly db: Database,
    readonly commits: WalIndexWatch | undefined,
    private readonly onClose: () => void,
  ) {
    this.direct = {
      dialect: "sqlite",
      query: async <Row extends object>(sql: string, params: readonly SqlValue[] = []) =>
        db.query(numberedParameters(sql)).all(...params) as Row[],
      execute: async (sql, params = []) => db.query(numberedParameters(sql)).run(...params).changes,
    };
  }

  query<Row extends object>(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    return this.outsideTransactions(() => this.direct.query<Row>(sql, params));
  }

  execute(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.outsideTransactions(() => this.direct.execute(sql, params));
  }

  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return this.outsideTransactions(() => {
      const run = this.runTransaction(fn);
      this.openTransaction = run;
      return run.finally(() => {
        if (this.openTransaction === run) this.openTransaction = undefined;
      });
    });
  }

  close(): Promise<void> {
    return this.outsideTransactions(async () => {
      if (--this.openers > 0) return;
      this.onClose();
      this.db.close();
    });
  }

  /** Starts `start` once no transaction is open; it must begin its work before its first await. */
  private async outsideTransactions<T>(start: () => Promise<T>): Promise<T> {
    while (this.openTransaction) await this.openTransaction.catch(() => undefined);
    return start();
  }

  private async runTransaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    // IMMEDIATE takes the write lock at once, so two processes cannot both read and then fail to upgrade.
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const result = await fn(this.direct);
      this.db.exec("COMMIT");
      return result;
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
  }
}

/** Translations of statement texts, which come from the code: it spares the hot path a regex. */
const translated = new Map<string, string>();
/** Some texts vary (IN lists of any length): past this many, new ones are translated every time. */
const MAX_TRANSLATED = 1000;

/** `$1` is a named parameter to SQLite, numbered by first use; `?1` is positional, as in PostgreSQL. */
function numberedParameters(sql: string): string {
  let text = translated.get(sql);
  if (text === undefined) {
    text = sql.replace(/\$(\d+)/g, "?$1");
    if (translated.size < MAX_TRANSLATED) translated.set(sql, text);
  }
  return text;
}
