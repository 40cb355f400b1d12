import { randomBytes } from "node:crypto";
import { apiKeyIdOf, sha256, type KeyIdentity } from "./accounts.ts";
import type { SqlClient } from "./adapter.ts";

export interface SessionsOptions {
  /** How long a session lasts after sign-in. */
  ttlMs?: number;
  /** Milliseconds since the epoch; tests move it by hand. */
  now?: () => number;
}

/** A working day: long enough not to sign in again and again, short enough that a forgotten browser is not signed in for good. */
export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/**
 * The web page's sessions. The browser holds a random token; the database holds only its
 * SHA-256 (the token has 256 bits of entropy, like a key's secret, so a fast hash is enough), so
 * a copy of the database opens no session. A session ends when it expires, on sign-out, or when
 * the key it was opened with is revoked: `find` checks the key on every request.
 */
export class Sessions {
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly db: SqlClient,
    options: SessionsOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_SESSION_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** Opens a session for a key the caller has authenticated; resolves to the token for the cookie. */
  async create(key: string): Promise<string> {
    const keyId = apiKeyIdOf(key);
    if (keyId === undefined) throw new TypeError("not an API key");
    const now = this.now();
    // Sign-ins are rare: each one also removes the sessions that have expired.
    await this.db.execute("DELETE FROM ui_sessions WHERE expires_at <= $1", [new Date(now).toISOString()]);
    const token = randomBytes(32).toString("base64url");
    await this.db.execute("INSERT INTO ui_sessions (token_sha256, key_id, created_at, expires_at) VALUES ($1, $2, $3, $4)", [
      sha256(token),
      keyId,
      new Date(now).toISOString(),
      new Date(now + this.ttlMs).toISOString(),
    ]);
    return token;
  }

  /** Whom the session acts for; undefined when the token is unknown, expired, or its key revoked. */
  async find(token: string): Promise<KeyIdentity | undefined> {
    if (!SESSION_TOKEN.test(token)) return undefined;
    const [row] = await this.db.query<{ org: string; admin: boolean | number }>(
      `SELECT k.org, k.admin FROM ui_sessions s JOIN api_keys k ON k.id = s.key_id
       WHERE s.token_sha256 = $1 AND s.expires_at > $2 AND k.revoked_at IS NULL`,
      [sha256(token), new Date(this.now()).toISOString()],
    );
    return row && { org: row.org, admin: Boolean(row.admin) };
  }

  /** Ends the session (sign-out); ending an unknown one is not an error. */
  async delete(token: string): Promise<void> {
    if (SESSION_TOKEN.test(token)) await this.db.execute("DELETE FROM ui_sessions WHERE token_sha256 = $1", [sha256(token)]);
  }
}

/** 32 random bytes in base64url. */
const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/;
