import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { checkName } from "../names.ts";
import { DatabaseError, toDate, type SqlClient } from "./adapter.ts";

/** A new API key: `key` is shown once and stored only as a hash; `id` names it for revocation. */
export interface NewApiKey {
  id: string;
  key: string;
}

/** Who a valid key acts for. */
export interface KeyIdentity {
  org: string;
  /** `--admin` keys may change read-only memory and the memory configuration. */
  admin: boolean;
}

export interface AgentRecord {
  agentId: string;
  createdAt: Date;
}

export interface AccountsOptions {
  /** How long a successful authentication is reused without asking the database. */
  authCacheTtlMs?: number;
  /** Milliseconds since the epoch; tests move it by hand. */
  now?: () => number;
}

/**
 * Organisations, their API keys and their agents.
 *
 * Keys look like `sg_<id>_<secret>`: 16 hex digits of id, then 32 random bytes in base64url.
 * The secret has 256 bits of entropy, so a plain SHA-256 is enough to store it (a slow password
 * hash protects guessable secrets, and this one cannot be guessed).
 */
export class Accounts {
  private readonly authCacheTtlMs: number;
  private readonly now: () => number;
  /**
   * Full key → its org, for every git request authenticates. The TTL is what makes this safe:
   * a cached answer can only become wrong by revocation (a key never changes org and is never
   * re-enabled), revoking in this process evicts at once, and a revocation made elsewhere (the
   * CLI, another server) takes effect here within the TTL — no longer than a request in flight.
   */
  private readonly authCache = new Map<string, KeyIdentity & { id: string; expiresAt: number }>();

  constructor(
    private readonly db: SqlClient,
    options: AccountsOptions = {},
  ) {
    this.authCacheTtlMs = options.authCacheTtlMs ?? DEFAULT_AUTH_CACHE_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** Creates the organisation; true when it is new, false when it already existed. */
  async createOrg(name: string): Promise<boolean> {
    checkName("organisation", name);
    const changed = await this.db.execute(
      "INSERT INTO organisations (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
      [name, this.timestamp()],
    );
    return changed > 0;
  }

  async orgExists(name: string): Promise<boolean> {
    checkName("organisation", name);
    return (await this.db.query("SELECT 1 FROM organisations WHERE name = $1", [name])).length > 0;
  }

  /** Issues a key for an existing organisation; DatabaseError("org.unknown") otherwise. */
  async createKey(org: string, options: { admin?: boolean } = {}): Promise<NewApiKey> {
    checkName("organisation", org);
    const id = randomBytes(8).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    const inserted = await this.db.execute(
      "INSERT INTO api_keys (id, org, secret_sha256, created_at, admin) SELECT $1, name, $2, $3, $5 FROM organisations WHERE name = $4",
      [id, sha256(secret), this.timestamp(), org, options.admin ?? false],
    );
    if (inserted === 0) throw new DatabaseError("org.unknown", `organisation ${JSON.stringify(org)} does not exist`);
    return { id, key: `sg_${id}_${secret}` };
  }

  /** Revokes the key for good; false when no key has this id. Revoking twice keeps the first time. */
  async revokeKey(id: string): Promise<boolean> {
    for (const [key, entry] of this.authCache) if (entry.id === id) this.authCache.delete(key);
    if (!isApiKeyId(id)) return false;
    const changed = await this.db.execute("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2", [
      this.timestamp(),
      id,
    ]);
    return changed > 0;
  }

  /** Who a key acts for, or undefined for a malformed, unknown, wrong or revoked key. */
  async authenticate(key: string): Promise<KeyIdentity | undefined> {
    const parsed = API_KEY.exec(key);
    if (!parsed) return undefined;
    const [, id, secret] = parsed;
    const now = this.now();
    const cached = this.authCache.get(key);
    if (cached && cached.expiresAt > now) return { org: cached.org, admin: cached.admin };
    this.authCache.delete(key);

    const [row] = await this.db.query<{ org: string; secret_sha256: string; revoked_at: unknown; last_used_at: unknown; admin: boolean | number }>(
      "SELECT org, secret_sha256, revoked_at, last_used_at, admin FROM api_keys WHERE id = $1",
      [id],
    );
    if (!row || row.revoked_at !== null || !sameHash(row.secret_sha256, sha256(secret))) return undefined;
    if (row.last_used_at === null || toDate(row.last_used_at).getTime() < now - LAST_USED_PRECISION_MS) {
      await this.db.execute("UPDATE api_keys SET last_used_at = $1 WHERE id = $2", [this.timestamp(), id]);
    }
    if (this.authCache.size >= AUTH_CACHE_MAX_ENTRIES) this.authCache.delete(this.authCache.keys().next().value!);
    const identity = { org: row.org, admin: Boolean(row.admin) };
    this.authCache.set(key, { ...identity, id, expiresAt: now + this.authCacheTtlMs });
    return identity;
  }

  /**
   * Records that the organisation has this agent; true when it is new. Creates the organisation
   * too when it is missing (with a trusted org header, an org may never have been created).
   */
  async registerAgent(org: string, agentId: string): Promise<boolean> {
    checkName("agent id", agentId);
    await this.createOrg(org);
    const changed = await this.db.execute(
      "INSERT INTO agents (org, agent_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (org, agent_id) DO NOTHING",
      [org, agentId, this.timestamp()],
    );
    return changed > 0;
  }

  /** The organisation's agents, by id. */
  async listAgents(org: string): Promise<AgentRecord[]> {
    checkName("organisation", org);
    const rows = await this.db.query<{ agent_id: string; created_at: unknown }>(
      "SELECT agent_id, created_at FROM agents WHERE org = $1 ORDER BY agent_id",
      [org],
    );
    return rows.map((row) => ({ agentId: row.agent_id, createdAt: toDate(row.created_at) }));
  }

  private timestamp(): string {
    return new Date(this.now()).toISOString();
  }
}

const DEFAULT_AUTH_CACHE_TTL_MS = 5000;
const AUTH_CACHE_MAX_ENTRIES = 10_000;
/** last_used_at is rewritten at most this often per key, not on every request. */
const LAST_USED_PRECISION_MS = 60_000;
const API_KEY = /^sg_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** The id of a key that has the form of one (`sg_<id>_<secret>`), whether or not it is valid. */
export function apiKeyIdOf(key: string): string | undefined {
  return API_KEY.exec(key)?.[1];
}

/** Whether `id` has the form of a key id: the 16 hex digits after `sg_` in a key. */
export function isApiKeyId(id: string): boolean {
  return /^[0-9a-f]{16}$/.test(id);
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Constant-time comparison of two hex SHA-256 digests. */
function sameHash(stored: string, computed: string): boolean {
  const a = Buffer.from(stored, "hex");
  const b = Buffer.from(computed, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}
