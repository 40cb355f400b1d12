import { MemoryRulesError } from "../blocks/api-write.ts";
import { BlockInputError } from "../blocks/errors.ts";
import { UnknownCommitOutcomeError } from "../db/manifests.ts";
import { GitError } from "../git/errors.ts";
import { StorageError } from "../storage/blob-store.ts";
import { WorkerPoolFullError } from "../workers/pool.ts";
import { BadBodyError, BodyTooLargeError } from "./body.ts";

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
 * back first: UnknownCommitOutcomeError is the one case where the client must check). A full
 * worker queue is the server's own capacity running out: the same answer.
 */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof WorkerPoolFullError) return true;
  if (error instanceof StorageError) return error.code === "storage.unavailable" || error.code === "storage.denied";
  if (error instanceof UnknownCommitOutcomeError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && UNAVAILABLE_CODES.has(code);
}

/** Seconds a client is asked to wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 5;

/** Statuses the JSON API answers errors with (DESIGN.md, Contract, "Blocks"). */
export type ApiErrorStatus = 400 | 404 | 409 | 412 | 413 | 422 | 500 | 503;

/** An error of the JSON API: `{ "error": { "code", "message", ...details } }` with `status`. */
export class ApiError extends Error {
  constructor(
    readonly status: ApiErrorStatus,
    /** Stable, machine-readable. */
    readonly code: string,
    message: string,
    /** More members of the error object (the problems of a refused write). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The status of each stable code the lower layers throw with; codes not listed are not the client's fault. */
const API_STATUS_OF_CODE: Readonly<Record<string, ApiErrorStatus>> = {
  "label.invalid": 400,
  "body.invalid": 400,
  "cursor.invalid": 400,
  "block.not-found": 404,
  "revision.unknown": 404,
  "repository.unknown": 404,
  "repository.name-invalid": 400,
  "repository.exists": 409,
  "repository.attached": 409,
  "path.unknown": 404,
  "block.conflict": 409,
  "tree.path-conflict": 409,
  "block.precondition": 412,
  "memory.rules": 422,
  "events.too-many": 503,
};

/**
 * The one place that maps errors to the JSON API's answers: the API's own, the typed errors of
 * memory and repositories by code, bodies, and unavailable dependencies (503). Undefined for
 * anything else, which is a bug: a 500 that is logged.
 */
export function apiErrorOf(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof BodyTooLargeError) return new ApiError(413, "body.too-large", error.message);
  if (error instanceof BadBodyError) return new ApiError(400, "body.invalid", error.message);
  if (isUnavailable(error)) return new ApiError(503, "unavailable", `service unavailable: ${(error as Error).message}`);
  const code = error instanceof BlockInputError || error instanceof GitError ? error.code : undefined;
  const status = code === undefined ? undefined : API_STATUS_OF_CODE[code];
  if (status === undefined) return undefined;
  const details = error instanceof MemoryRulesError ? { problems: error.problems } : {};
  return new ApiError(status, code as string, (error as Error).message, details);
}
