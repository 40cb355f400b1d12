import { UnknownCommitOutcomeError } from "../db/manifests.ts";
import { StorageError } from "../storage/blob-store.ts";

/** Connection-level failure codes of postgres.js, Node sockets and SQLite: the database is unreachable or busy, not wrong. */
const UNAVAILABLE_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "SQLITE_BUSY",
  "57P01", // admin_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
]);

/**
 * Whether `error` means a dependency (storage, database) is unavailable, so the request may
 * succeed when retried: answered 503 with Retry-After, never 500. A write that fails this way
 * changed nothing (the commit point is the database row, and an unconfirmed commit is read
 * back first: UnknownCommitOutcomeError is the one case where the client must check).
 */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof StorageError) return error.code === "storage.unavailable" || error.code === "storage.denied";
  if (error instanceof UnknownCommitOutcomeError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && UNAVAILABLE_CODES.has(code);
}

/** Seconds a client is asked to wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 5;
