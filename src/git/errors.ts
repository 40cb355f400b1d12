/**
 * Typed errors of the git engine. Every malformed input the engine sees ends in one of these,
 * so callers (protocol, HTTP) can turn them into a clear client message without guessing.
 */
export class GitError extends Error {
  constructor(
    /** Stable machine-readable code, e.g. "pack.checksum". */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The bytes are not what the format says they must be (corrupt, truncated, inconsistent). */
export class CorruptDataError extends GitError {}

/** The input is well-formed but exceeds a configured limit (size, depth, count). */
export class LimitExceededError extends GitError {}

/** An object or a delta base the input depends on is not available. */
export class MissingObjectError extends GitError {
  constructor(
    readonly oid: string,
    message = `missing object ${oid}`,
  ) {
    super("object.missing", message);
  }
}
