import { describe, expect, test } from "bun:test";
import { Accounts } from "../../src/db/accounts.ts";
import { Sessions } from "../../src/db/sessions.ts";
import { databasePerTest, DATABASE_KINDS } from "./databases.ts";

const HOUR = 60 * 60 * 1000;

for (const kind of DATABASE_KINDS) {
  describe.skipIf(kind.skip !== undefined)(`Sessions on ${kind.name}`, () => {
    const { open } = databasePerTest(kind);

    async function setUp() {
      const db = await open();
      const clock = { now: Date.parse("2026-01-01T00:00:00Z") };
      const accounts = new Accounts(db, { authCacheTtlMs: 0, now: () => clock.now });
      await accounts.createOrg("acme");
      const key = await accounts.createKey("acme", { admin: true });
      const sessions = new Sessions(db, { ttlMs: HOUR, now: () => clock.now });
      return { db, clock, accounts, key, sessions };
    }

    test("a session acts for its key's organisation, and the database holds only the token's hash", async () => {
      const { db, key, sessions } = await setUp();
      const token = await sessions.create(key.key);
      expect(await sessions.find(token)).toEqual({ org: "acme", admin: true });
      const rows = await db.query<{ token_sha256: string; key_id: string }>("SELECT token_sha256, key_id FROM ui_sessions");
      expect(rows).toEqual([{ token_sha256: expect.stringMatching(/^[0-9a-f]{64}$/), key_id: key.id }]);
      expect(JSON.stringify(rows)).not.toContain(token);
    });

    test("unknown and malformed tokens find nothing", async () => {
      const { sessions, key } = await setUp();
      const token = await sessions.create(key.key);
      for (const wrong of ["", "x", `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`, "' OR 1=1 --", "a".repeat(10_000)]) {
        expect(await sessions.find(wrong)).toBeUndefined();
      }
    });

    test("a session expires after its lifetime, and expired sessions are removed at the next sign-in", async () => {
      const { db, clock, key, sessions } = await setUp();
      const token = await sessions.create(key.key);
      clock.now += HOUR - 1;
      expect(await sessions.find(token)).toBeDefined();
      clock.now += 1;
      expect(await sessions.find(token)).toBeUndefined();
      await sessions.create(key.key);
      expect(await db.query("SELECT key_id FROM ui_sessions")).toHaveLength(1);
    });

    test("sign-out ends the session; revoking the key ends every session opened with it", async () => {
      const { accounts, key, sessions } = await setUp();
      const first = await sessions.create(key.key);
      const second = await sessions.create(key.key);
      const other = await accounts.createKey("acme");
      const third = await sessions.create(other.key);
      await sessions.delete(first);
      expect(await sessions.find(first)).toBeUndefined();
      expect(await sessions.find(second)).toBeDefined();
      await accounts.revokeKey(key.id);
      expect(await sessions.find(second)).toBeUndefined();
      expect(await sessions.find(third)).toEqual({ org: "acme", admin: false });
    });
  });
}
