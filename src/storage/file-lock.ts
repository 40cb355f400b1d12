import { Database } from "bun:sqlite";
import { StorageError } from "./blob-store.ts";

/**
 * An exclusive lock shared by every process on this machine, held while `fn` runs.
 *
 * The lock is SQLite's write lock (`BEGIN IMMEDIATE`) on an empty lock file: a POSIX advisory
 * lock held by the kernel for the open file, so a process that crashes or is killed releases it
 * at once and a stale lock can never block anyone. Lock files must never be deleted: a process
 * could then lock an unlinked inode while another locks a new file of the same name.
 *
 * POSIX locks do not exclude two handles of one process, and a busy wait inside SQLite would
 * block the event loop the holder needs, so callers of one process first queue in memory.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
  const previous = queues.get(lockPath) ?? Promise.resolve();
  let release!: () => void;
  const tail = previous.then(() => new Promise<void>((resolve) => (release = resolve)));
  queues.set(lockPath, tail);
  await previous;
  try {
    return await holdProcessLock(lockPath, fn, timeoutMs);
  } finally {
    release();
    if (queues.get(lockPath) === tail) queues.delete(lockPath);
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_BACKOFF_MS = 20;
const queues = new Map<string, Promise<void>>();

async function holdProcessLock<T>(lockPath: string, fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const lock = new Database(lockPath, { create: true });
  try {
    lock.exec("PRAGMA busy_timeout = 0");
    const deadline = performance.now() + timeoutMs;
    for (let backoff = 1; !tryBeginImmediate(lock); backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
      if (performance.now() > deadline) {
        throw new StorageError("storage.lock", `could not lock ${lockPath} within ${timeoutMs} ms`);
      }
      await Bun.sleep(backoff);
    }
    try {
      return await fn();
    } finally {
      lock.exec("ROLLBACK");
    }
  } finally {
    lock.close();
  }
}

function tryBeginImmediate(lock: Database): boolean {
  try {
    lock.exec("BEGIN IMMEDIATE");
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "SQLITE_BUSY") return false;
    throw error;
  }
}
