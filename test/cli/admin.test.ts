import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Accounts } from "../../src/db/accounts.ts";
import { openDatabase } from "../../src/db/open.ts";
import { DATABASE_KINDS, type TestDatabase } from "../db/databases.ts";
import { tempDir } from "../support/git.ts";
import { buildBinaryOnce, RUNNERS, type Runner } from "./runners.ts";

buildBinaryOnce();

/** Runs in an empty directory (the binary must need nothing beside it), with no STATEGIT_* variables but `env`. */
function stategit(runner: Runner, args: string[], env: Record<string, string> = {}, cwd = workDir.path) {
  const result = Bun.spawnSync([...runner.command, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: workDir.path, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { status: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

const workDir = tempDir("stategit-cli-");
afterAll(workDir.cleanup);

/** A failure prints one line on stderr and nothing on stdout. */
function expectFailure(result: ReturnType<typeof stategit>, status: number, reason: string) {
  expect({ status: result.status, stdout: result.stdout }).toEqual({ status, stdout: "" });
  expect(result.stderr).toMatch(/^stategit: [^\n]+\n$/);
  expect(result.stderr).toContain(reason);
}

for (const runner of RUNNERS) {
  for (const kind of DATABASE_KINDS) {
    describe.skipIf(kind.skip !== undefined)(`administration from the ${runner.name} on ${kind.name}`, () => {
      let database: TestDatabase;
      beforeAll(async () => {
        database = await kind.create();
      });
      afterAll(() => database.cleanup());
      const admin = (...args: string[]) => stategit(runner, [...args, "--database", database.url]);
      const accounts = async <T>(fn: (accounts: Accounts) => Promise<T>) => {
        const db = await openDatabase(database.url);
        try {
          return await fn(new Accounts(db));
        } finally {
          await db.close();
        }
      };

      test("org create, key create, key revoke, agent list", async () => {
        expect(admin("org", "create", "acme")).toEqual({ status: 0, stdout: "", stderr: "created organisation acme\n" });
        expect(admin("org", "create", "acme")).toEqual({ status: 0, stdout: "", stderr: "organisation acme exists already\n" });

        const created = admin("key", "create", "acme");
        expect(created.status).toBe(0);
        expect(created.stdout).toMatch(/^sg_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$/);
        const key = created.stdout.trim();
        const id = key.slice(3, 19);
        expect(created.stderr).toContain(id);
        expect((await accounts((a) => a.authenticate(key)))?.org).toBe("acme");

        expect(admin("key", "revoke", id)).toEqual({ status: 0, stdout: "", stderr: `revoked key ${id}\n` });
        expect(await accounts((a) => a.authenticate(key))).toBeUndefined();
        expect(admin("key", "revoke", id).status).toBe(0);
        expectFailure(admin("key", "revoke", "0123456789abcdef"), 1, "no API key");

        expect(admin("agent", "list", "acme")).toEqual({ status: 0, stdout: "", stderr: "" });
        await accounts(async (a) => {
          await a.registerAgent("acme", "writer");
          await a.registerAgent("acme", "planner");
        });
        expect(admin("agent", "list", "acme")).toEqual({ status: 0, stdout: "planner\nwriter\n", stderr: "" });
      });

      test("webhook add, list and remove", async () => {
        expect(admin("org", "create", "hooks").status).toBe(0);
        const generated = admin("webhook", "add", "hooks", "https://example.com/hook");
        expect(generated.status).toBe(0);
        expect(generated.stdout).toMatch(/^wh_[0-9a-f]{16}\n$/);
        expect(generated.stderr).toMatch(/its secret \(shown only once\): [0-9a-f]{64}\n$/);
        const given = admin("webhook", "add", "hooks", "http://127.0.0.1:9/other", "--secret", "s3cret");
        expect(given.stderr).not.toContain("s3cret");
        const [first, second] = [generated.stdout.trim(), given.stdout.trim()];
        const listed = admin("webhook", "list", "hooks");
        expect(listed.stdout).toBe(`${first}\thooks\thttps://example.com/hook\tno delivery yet\n${second}\thooks\thttp://127.0.0.1:9/other\tno delivery yet\n`);
        expect(admin("webhook", "list").stdout).toContain(first);
        expect(admin("webhook", "remove", first)).toEqual({ status: 0, stdout: "", stderr: `removed webhook ${first}\n` });
        expect(admin("webhook", "list", "hooks").stdout).not.toContain(first);
        expectFailure(admin("webhook", "remove", first), 1, "no webhook");
        expectFailure(admin("webhook", "add", "nobody", "https://example.com/"), 1, "org create nobody");
        expectFailure(admin("webhook", "add", "hooks", "ftp://example.com/"), 2, "webhook URL");
        expectFailure(admin("webhook", "add", "hooks", "https://user:pw@example.com/"), 2, "credentials");
        expectFailure(admin("webhook", "remove", "nope"), 2, "webhook id");
      });

      test("a missing organisation is an error, not created by the way", async () => {
        expectFailure(admin("key", "create", "nobody"), 1, "org create nobody");
        expectFailure(admin("agent", "list", "nobody"), 1, "does not exist");
        expect(await accounts((a) => a.orgExists("nobody"))).toBe(false);
      });
    });
  }

  describe(`configuration and usage from the ${runner.name}`, () => {
    test("without flags or environment, the database is ./data/stategit.db", async () => {
      const cwd = tempDir("stategit-cli-defaults-");
      try {
        expect(stategit(runner, ["org", "create", "acme"], {}, cwd.path).status).toBe(0);
        expect(existsSync(join(cwd.path, "data/stategit.db"))).toBe(true);
      } finally {
        cwd.cleanup();
      }
    });

    test("STATEGIT_DATABASE_URL is used without a flag, and the flag beats it", () => {
      const fromEnv = `sqlite:${join(workDir.path, `${runner.name}-env.db`)}`;
      const fromFlag = `sqlite:${join(workDir.path, `${runner.name}-flag.db`)}`;
      expect(stategit(runner, ["org", "create", "acme"], { STATEGIT_DATABASE_URL: fromEnv }).status).toBe(0);
      expect(stategit(runner, ["agent", "list", "acme"], { STATEGIT_DATABASE_URL: fromEnv }).status).toBe(0);
      expectFailure(stategit(runner, ["agent", "list", "acme", "--database", fromFlag], { STATEGIT_DATABASE_URL: fromEnv }), 1, "does not exist");
      expect(stategit(runner, ["org", "create", "x", "--database", fromFlag], { STATEGIT_DATABASE_URL: "bogus:" }).status).toBe(0);
    });

    test("bad usage and configuration exit with status 2 and one line", () => {
      const database = `sqlite:${join(workDir.path, "usage.db")}`;
      expectFailure(stategit(runner, []), 2, "no command");
      expectFailure(stategit(runner, ["frobnicate"]), 2, "unknown command");
      expectFailure(stategit(runner, ["key"]), 2, "key create, key revoke");
      expectFailure(stategit(runner, ["org", "create"]), 2, "ORG");
      expectFailure(stategit(runner, ["org", "create", "a", "b"]), 2, "ORG");
      expectFailure(stategit(runner, ["org", "create", "a", "--no-such-flag"]), 2, "--no-such-flag");
      expectFailure(stategit(runner, ["org", "create", "../etc", "--database", database]), 2, "invalid organisation");
      expectFailure(stategit(runner, ["key", "create", "-x"]), 2, "-x");
      expectFailure(stategit(runner, ["key", "revoke", "not-an-id", "--database", database]), 2, "key id");
      expectFailure(stategit(runner, ["org", "create", "a", "--database", "mysql://h/db"]), 2, "database URL");
      expectFailure(stategit(runner, ["org", "create", "a", "--database", database], { STATEGIT_STORAGE: "s3://bucket" }), 2, "storage URL");
      expectFailure(stategit(runner, ["serve", "--listen", "nowhere"]), 2, "listen");
      expectFailure(stategit(runner, ["serve"], { STATEGIT_TRUST_ORG_HEADER: "perhaps" }), 2, "STATEGIT_TRUST_ORG_HEADER");
      expectFailure(stategit(runner, ["serve", "--max-objects", "0"]), 2, "--max-objects");
      expect(existsSync(join(workDir.path, "usage.db"))).toBe(false);
    });

    test("an unreachable database exits with status 1 and says so, without the password", () => {
      const result = stategit(runner, ["org", "create", "acme", "--database", "postgres://admin:hunter2@127.0.0.1:1/stategit"]);
      expectFailure(result, 1, "cannot connect to postgres://admin:***@127.0.0.1:1/stategit");
      expect(result.stderr).not.toContain("hunter2");
    });

    test("--help describes every command, and COMMAND --help every flag", () => {
      const help = stategit(runner, ["--help"]);
      expect(help.status).toBe(0);
      for (const command of ["serve", "org create ORG", "key create ORG", "key revoke KEY_ID", "agent list ORG", "webhook add ORG URL", "webhook list [ORG]", "webhook remove ID"]) expect(help.stdout).toContain(command);
      const serveHelp = stategit(runner, ["serve", "--help"]);
      expect(serveHelp.status).toBe(0);
      for (const flag of ["--listen", "--storage", "--database", "--trust-org-header", "--allow-force-push", "--max-body-bytes", "--max-object-bytes", "--max-objects", "--max-delta-depth"]) {
        expect(serveHelp.stdout).toContain(flag);
      }
      expect(serveHelp.stdout).toContain("STATEGIT_LISTEN");
      expect(serveHelp.stdout).toContain("127.0.0.1:8283");
    });
  });
}
