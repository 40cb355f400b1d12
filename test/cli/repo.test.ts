/**
 * `stategit repo create|list|attach|detach|delete` from the sources (the binary runs the same
 * module; test/resilience/shared-memory.test.ts drives it through the built program's servers).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DATABASE_KINDS, type TestDatabase } from "../db/databases.ts";
import { tempDir } from "../support/git.ts";
import { RUNNERS } from "./runners.ts";

const sources = RUNNERS.find((runner) => runner.name === "sources")!;
const workDir = tempDir("stategit-cli-repo-");
afterAll(workDir.cleanup);

for (const kind of DATABASE_KINDS) {
  describe.skipIf(kind.skip !== undefined)(`stategit repo on ${kind.name}`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await kind.create();
    });
    afterAll(() => database.cleanup());
    const storage = join(workDir.path, `${kind.name}-repos`);
    const stategit = (...args: string[]) => {
      const result = Bun.spawnSync([...sources.command, ...args, "--database", database.url, "--storage", `file:${storage}`], {
        cwd: workDir.path,
        env: { PATH: process.env.PATH ?? "", HOME: workDir.path },
        stdout: "pipe",
        stderr: "pipe",
      });
      return { status: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
    };
    const failure = (result: ReturnType<typeof stategit>) => ({ status: result.status, stdout: result.stdout, oneLine: /^stategit: [^\n]+\n$/.test(result.stderr) });

    test("create, list, attach, detach and delete, by id or name; bad input changes nothing", () => {
      expect(stategit("org", "create", "acme").status).toBe(0);
      const created = stategit("repo", "create", "acme", "notes");
      expect(created.status).toBe(0);
      expect(created.stdout).toMatch(/^repo-[0-9a-f-]{36}\n$/);
      const id = created.stdout.trim();
      const plans = stategit("repo", "create", "acme", "plans").stdout.trim();

      expect(failure(stategit("repo", "create", "acme", "notes"))).toEqual({ status: 1, stdout: "", oneLine: true });
      expect(stategit("repo", "create", "acme", "notes").stderr).toContain("exists already");
      for (const name of ["memory", "..", "a/b"]) expect(failure(stategit("repo", "create", "acme", name))).toEqual({ status: 2, stdout: "", oneLine: true });
      expect(stategit("repo", "create", "nobody", "notes").stderr).toContain('organisation "nobody" does not exist');
      expect(failure(stategit("repo", "create", "acme"))).toEqual({ status: 2, stdout: "", oneLine: true });

      expect(stategit("repo", "attach", "acme", "agent-1", "notes")).toEqual({ status: 0, stdout: "", stderr: "attached repository notes to agent agent-1\n" });
      expect(stategit("repo", "attach", "acme", "agent-1", id).status).toBe(0);
      expect(stategit("repo", "attach", "acme", "agent-2", id).status).toBe(0);
      expect(stategit("repo", "list", "acme")).toEqual({ status: 0, stdout: `${id}\tnotes\tagent-1,agent-2\n${plans}\tplans\t\n`, stderr: "" });
      expect(stategit("repo", "attach", "acme", "agent-1", "nothing").stderr).toContain('no repository "nothing"');
      expect(failure(stategit("repo", "attach", "acme", "bad..agent", "notes"))).toEqual({ status: 2, stdout: "", oneLine: true });

      const refused = stategit("repo", "delete", "acme", "notes");
      expect(failure(refused)).toEqual({ status: 1, stdout: "", oneLine: true });
      expect(refused.stderr).toContain("detach it first");
      expect(stategit("repo", "detach", "acme", "agent-1", "notes").status).toBe(0);
      expect(stategit("repo", "detach", "acme", "agent-1", "notes").stderr).toContain("is not attached");
      expect(stategit("repo", "detach", "acme", "agent-2", id).status).toBe(0);
      expect(stategit("repo", "delete", "acme", "notes")).toEqual({ status: 0, stdout: "", stderr: `deleted repository notes (${id})\n` });
      expect(stategit("repo", "list", "acme").stdout).toBe(`${plans}\tplans\t\n`);
      expect(stategit("repo", "delete", "acme", plans).status).toBe(0);
      expect(stategit("repo", "list", "acme")).toEqual({ status: 0, stdout: "", stderr: "" });
    });

    test("the maintenance commands select one shared repository with --repository ID, never together with --agent", () => {
      for (const command of ["gc", "fsck", "reindex"]) {
        expect(stategit(command, "--repository", "repo-none")).toMatchObject({ status: 0, stdout: expect.stringContaining(`${command}: 0 repositories`) });
        expect(failure(stategit(command, "--repository", "a..b"))).toEqual({ status: 2, stdout: "", oneLine: true });
        expect(failure(stategit(command, "--repository", "repo-none", "--agent", "agent-1"))).toEqual({ status: 2, stdout: "", oneLine: true });
      }
    });
  });
}
