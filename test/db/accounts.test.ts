import { describe, expect, test } from "bun:test";
import { Accounts } from "../../src/db/accounts.ts";
import { DatabaseError } from "../../src/db/adapter.ts";
import { InvalidNameError } from "../../src/names.ts";
import { databasePerTest, DATABASE_KINDS } from "./databases.ts";

for (const kind of DATABASE_KINDS) {
  describe.skipIf(kind.skip !== undefined)(`Accounts on ${kind.name}`, () => {
    const { open } = databasePerTest(kind);

    test("organisations are created once; creating one again is not an error", async () => {
      const accounts = new Accounts(await open());
      expect(await accounts.orgExists("acme")).toBe(false);
      expect(await accounts.createOrg("acme")).toBe(true);
      expect(await accounts.createOrg("acme")).toBe(false);
      expect(await accounts.orgExists("acme")).toBe(true);
    });

    test("bad names are refused before anything is written", async () => {
      const db = await open();
      const accounts = new Accounts(db);
      for (const name of ["", "-x", "a..b", "a/b", "x".repeat(129), "é"]) {
        await expect(accounts.createOrg(name)).rejects.toBeInstanceOf(InvalidNameError);
      }
      await accounts.createOrg("acme");
      await expect(accounts.registerAgent("acme", "../etc")).rejects.toBeInstanceOf(InvalidNameError);
      expect(await db.query("SELECT name FROM organisations")).toEqual([{ name: "acme" }]);
      expect(await db.query("SELECT agent_id FROM agents")).toEqual([]);
    });

    test("a key authenticates as its organisation and is stored only as a hash", async () => {
      const db = await open();
      const accounts = new Accounts(db);
      await accounts.createOrg("acme");
      await accounts.createOrg("other");
      const { id, key } = await accounts.createKey("acme");
      expect(key).toMatch(/^sg_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      expect(key.startsWith(`sg_${id}_`)).toBe(true);
      expect((await accounts.authenticate(key))?.org).toBe("acme");
      expect(await accounts.authenticate((await accounts.createKey("other")).key)).toEqual({ org: "other", admin: false });
      expect(await accounts.authenticate((await accounts.createKey("other", { admin: true })).key)).toEqual({ org: "other", admin: true });

      const secret = key.slice(`sg_${id}_`.length);
      const rows = await db.query<Record<string, unknown>>("SELECT * FROM api_keys WHERE id = $1", [id]);
      expect(rows.length).toBe(1);
      expect(JSON.stringify(rows)).not.toContain(secret);
      expect(rows[0].last_used_at).not.toBeNull();
    });

    test("wrong, malformed and unknown keys do not authenticate", async () => {
      const accounts = new Accounts(await open());
      await accounts.createOrg("acme");
      const { id, key } = await accounts.createKey("acme");
      const otherSecret = "A".repeat(43);
      for (const candidate of [`sg_${id}_${otherSecret}`, `sg_${"0".repeat(16)}_${otherSecret}`, key.slice(0, -1), `${key}x`, "", "Bearer x", key.toUpperCase()]) {
        expect(await accounts.authenticate(candidate)).toBeUndefined();
      }
    });

    test("a key cannot be issued for a missing organisation", async () => {
      const accounts = new Accounts(await open());
      const error = await accounts.createKey("nobody").catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DatabaseError);
      expect((error as DatabaseError).code).toBe("org.unknown");
    });

    test("a revoked key fails at once in the revoking process, even when it was cached", async () => {
      const db = await open();
      const accounts = new Accounts(db);
      await accounts.createOrg("acme");
      const { id, key } = await accounts.createKey("acme");
      expect((await accounts.authenticate(key))?.org).toBe("acme");
      expect(await accounts.revokeKey(id)).toBe(true);
      expect(await accounts.authenticate(key)).toBeUndefined();
      const [first] = await db.query<{ revoked_at: unknown }>("SELECT revoked_at FROM api_keys WHERE id = $1", [id]);
      expect(await accounts.revokeKey(id)).toBe(true);
      expect(await db.query("SELECT revoked_at FROM api_keys WHERE id = $1", [id])).toEqual([first]);
      expect(await accounts.revokeKey("0123456789abcdef")).toBe(false);
      expect(await accounts.revokeKey("not an id")).toBe(false);
    });

    test("a revocation made by another process takes effect here once the cache entry expires", async () => {
      const db = await open();
      let now = Date.UTC(2030, 0, 1);
      const server = new Accounts(db, { authCacheTtlMs: 5000, now: () => now });
      const cli = new Accounts(db);
      await cli.createOrg("acme");
      const { id, key } = await cli.createKey("acme");
      expect((await server.authenticate(key))?.org).toBe("acme");
      await cli.revokeKey(id);
      now += 4999;
      expect((await server.authenticate(key))?.org).toBe("acme");
      now += 2;
      expect(await server.authenticate(key)).toBeUndefined();
    });

    test("agents are registered once per organisation and listed by id", async () => {
      const accounts = new Accounts(await open());
      await accounts.createOrg("acme");
      expect(await accounts.registerAgent("acme", "zeta")).toBe(true);
      expect(await accounts.registerAgent("acme", "alpha")).toBe(true);
      expect(await accounts.registerAgent("acme", "zeta")).toBe(false);
      expect(await accounts.registerAgent("other", "alpha")).toBe(true);
      const agents = await accounts.listAgents("acme");
      expect(agents.map((agent) => agent.agentId)).toEqual(["alpha", "zeta"]);
      expect(agents[0].createdAt).toBeInstanceOf(Date);
      expect(Math.abs(agents[0].createdAt.getTime() - Date.now())).toBeLessThan(60_000);
      expect((await accounts.listAgents("other")).map((agent) => agent.agentId)).toEqual(["alpha"]);
      expect(await accounts.orgExists("other")).toBe(true);
      expect(await accounts.listAgents("nobody")).toEqual([]);
    });
  });
}
