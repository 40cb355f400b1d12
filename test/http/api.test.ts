import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { Workdir } from "../repo/support.ts";
import { databasePerTest, DATABASE_KINDS } from "../db/databases.ts";
import { ADMIN_KEY, apiFixture, type ApiFixture } from "./api-support.ts";

const workdirs: Workdir[] = [];
afterAll(() => workdirs.forEach((work) => work.cleanup()));

/** Pushes one commit of `files` to a fresh agent, as a git client would. */
async function seeded(api: ApiFixture, agent: string, files: Record<string, string>, symlinks: Record<string, string> = {}): Promise<string> {
  const work = new Workdir();
  workdirs.push(work);
  for (const [path, target] of Object.entries(symlinks)) {
    mkdirSync(dirname(join(work.path, path)), { recursive: true });
    symlinkSync(target, join(work.path, path));
  }
  const commit = work.commit(files);
  await api.push(agent, work, commit);
  return commit;
}

async function expectMirrorMatchesTip(api: ApiFixture, agent: string): Promise<void> {
  const { rows, expected } = await api.mirrorAndTip(agent);
  expect(rows).toEqual(expected);
}

const human = { value: "Name: Ada\n", description: "Who the user is" };

for (const kind of DATABASE_KINDS) {
  describe.skipIf(kind.skip !== undefined)(`JSON API on ${kind.name}`, () => {
    const database = databasePerTest(kind);

    test("v1: a PUT creates system/LABEL.md in one commit; list, block, files and history show it", async () => {
      const api = apiFixture(await database.open());
      const empty = await api.json("GET", "/v1/agents/a/blocks");
      expect(empty.body).toEqual({ commit: null, generation: 0, blocks: [] });

      const put = await api.json("PUT", "/v1/agents/a/blocks/human", { body: { ...human, author: { name: "Ada", email: "ada@example.com" } } });
      expect(put.status).toBe(200);
      const commit = put.body.commit;
      expect(put.headers.get("etag")).toBe(`"${commit}"`);
      expect(put.body.block).toMatchObject({ label: "human", path: "system/human.md", value: "Name: Ada\n", description: "Who the user is", commit });
      expect(put.body.warnings).toEqual([]);

      const list = await api.json("GET", "/v1/agents/a/blocks");
      expect(list.body).toEqual({ commit, generation: 1, blocks: [put.body.block] });
      const block = await api.json("GET", "/v1/agents/a/blocks/human");
      expect(block.body).toEqual(put.body.block);
      expect(block.headers.get("etag")).toBe(`"${commit}"`);

      const file = await api.json("GET", "/v1/agents/a/files/system/human.md");
      expect(file.body).toMatchObject({ ref: "HEAD", commit, path: "system/human.md", type: "file", mode: "100644", encoding: "utf-8" });
      expect(file.body.content).toBe("---\ndescription: Who the user is\n---\nName: Ada\n");
      const root = await api.json("GET", "/v1/agents/a/files");
      expect(root.body.files.map((entry: { path: string }) => entry.path)).toEqual(["system/human.md"]);

      const history = await api.json("GET", "/v1/agents/a/history?path=system/human.md");
      expect(history.body.commits).toHaveLength(1);
      expect(history.body.commits[0]).toMatchObject({ id: commit, parents: [], message: "Create human\n", author: { name: "Ada", email: "ada@example.com" } });
      expect(history.body.commits[0].committer).toMatchObject({ name: "stategit", email: "stategit@localhost", timezone: "+0000" });
      await expectMirrorMatchesTip(api, "a");
    });

    test("a value-only PUT keeps the front matter byte for byte, and a PUT of the same content makes no commit", async () => {
      const api = apiFixture(await database.open());
      const frontMatter = "---\nlimit:    5000   \ndescription:   'odd   spacing'\n\n---\n";
      await seeded(api, "a", { "system/persona.md": `${frontMatter}old value\n`, "notes.md": "plain\n" });
      const put = await api.json("PUT", "/v1/agents/a/blocks/persona", { body: { value: "new value\n", message: "Be concise" } });
      expect(put.body.error).toBeUndefined();
      expect(put.body.block).toMatchObject({ description: "odd   spacing", limit: 5000, value: "new value\n" });
      const file = await api.json("GET", "/v1/agents/a/files/system/persona.md");
      expect(file.body.content).toBe(`${frontMatter}new value\n`);
      const again = await api.json("PUT", "/v1/agents/a/blocks/persona", { body: { value: "new value\n" } });
      expect(again.body.commit).toBe(put.body.commit);
      const history = await api.json("GET", "/v1/agents/a/history");
      expect(history.body.commits.map((commit: { message: string }) => commit.message)).toEqual(["Be concise\n", "commit 1\n"]);
      await expectMirrorMatchesTip(api, "a");
    });

    test("If-Match: 412 when the block changed since the commit or the commit is unknown; applied on the new tip when only main moved", async () => {
      const api = apiFixture(await database.open());
      const first = (await api.json("PUT", "/v1/agents/a/blocks/human", { body: human })).body.commit;
      const other = await api.json("PUT", "/v1/agents/a/blocks/persona", { body: { value: "Helpful", description: "me" } });
      const applied = await api.json("PUT", "/v1/agents/a/blocks/human", { body: { ...human, value: "Name: Grace\n" }, headers: { "if-match": `"${first}"` } });
      expect(applied.status).toBe(200);
      const parents = (await api.json("GET", `/v1/agents/a/history?limit=1`)).body.commits[0].parents;
      expect(parents).toEqual([other.body.commit]);

      const stale = await api.json("PUT", "/v1/agents/a/blocks/human", { body: human, headers: { "if-match": `"${first}"` } });
      expect(stale.status).toBe(412);
      expect(stale.body.error.code).toBe("block.precondition");
      const deleteStale = await api.json("DELETE", "/v1/agents/a/blocks/human", { headers: { "if-match": first } });
      expect(deleteStale.status).toBe(412);
      const unknown = await api.json("PUT", "/v1/agents/a/blocks/human", { body: human, headers: { "if-match": `"${"1".repeat(40)}"` } });
      expect(unknown.status).toBe(412);
      const malformed = await api.json("PUT", "/v1/agents/a/blocks/human", { body: human, headers: { "if-match": '"main"' } });
      expect(malformed.status).toBe(400);
      expect((await api.json("GET", "/v1/agents/a/blocks/human")).body.value).toBe("Name: Grace\n");
      await expectMirrorMatchesTip(api, "a");
    });

    test("422 names the rules; a read-only block is refused for a normal key and written by an admin key", async () => {
      const api = apiFixture(await database.open());
      const seed = await seeded(api, "a", { "system/policy.md": "---\ndescription: rules\nread_only: true\n---\nBe kind.\n" });
      const noDescription = await api.json("PUT", "/v1/agents/a/blocks/scratch", { body: { value: "x" } });
      expect(noDescription.status).toBe(422);
      expect(noDescription.body.error.code).toBe("memory.rules");
      expect(noDescription.body.error.problems).toEqual([expect.objectContaining({ path: "system/scratch.md", code: expect.stringContaining("frontmatter") })]);

      const modified = await api.json("PUT", "/v1/agents/a/blocks/policy", { body: { value: "Be mean.\n" } });
      expect(modified.status).toBe(422);
      expect(modified.body.error.problems.map((problem: { code: string }) => problem.code)).toEqual(["read-only.modified"]);
      expect((await api.json("DELETE", "/v1/agents/a/blocks/policy")).status).toBe(422);
      expect((await api.json("PUT", "/v1/agents/a/blocks/x", { body: { value: "x", description: "d", read_only: true } })).status).toBe(422);
      expect((await api.json("GET", "/v1/agents/a/blocks")).body.commit).toBe(seed);

      const admin = await api.json("PUT", "/v1/agents/a/blocks/policy", { body: { value: "Be fair.\n" }, key: ADMIN_KEY });
      expect(admin.status).toBe(200);
      expect(admin.body.block).toMatchObject({ read_only: true, value: "Be fair.\n" });
      await expectMirrorMatchesTip(api, "a");
    });

    test("--block-policy warn: the write is applied and its problems come back as warnings", async () => {
      const api = apiFixture(await database.open(), { blockPolicy: "warn" });
      const put = await api.json("PUT", "/v1/agents/a/blocks/scratch", { body: { value: "x" } });
      expect(put.status).toBe(200);
      expect(put.body.warnings).toEqual([expect.objectContaining({ path: "system/scratch.md", code: expect.stringContaining("frontmatter") })]);
      expect((await api.json("GET", "/v1/agents/a/blocks/scratch")).body).toMatchObject({ value: "x", description: null });
    });

    test("v2: blocks are LABEL.md with a name; a nested label needs its directory's index", async () => {
      const api = apiFixture(await database.open());
      await seeded(api, "a", { "MEMORY.md": "# Memory\n", "human.md": "---\nname: Human\ndescription: the user\n---\nAda\n" });
      const put = await api.json("PUT", "/v1/agents/a/blocks/tool-notes", { body: { value: "use rg\n", description: "tools" } });
      expect(put.status).toBe(200);
      expect(put.body.block).toMatchObject({ label: "tool-notes", path: "tool-notes.md", name: "Tool Notes", description: "tools" });
      expect(put.body.block).not.toHaveProperty("read_only");
      const nested = await api.json("PUT", "/v1/agents/a/blocks/project/stack", { body: { value: "bun\n", description: "stack" } });
      expect(nested.status).toBe(422);
      expect(nested.body.error.problems[0].path).toBe("project/stack.md");
      expect((await api.json("PUT", "/v1/agents/a/blocks/project/MEMORY", { body: { value: "# Project\n" } })).status).toBe(200);
      const indexed = await api.json("PUT", "/v1/agents/a/blocks/project/stack", { body: { value: "bun\n", description: "stack" } });
      expect(indexed.status).toBe(200);
      expect(indexed.body.block).toMatchObject({ label: "project/stack", path: "project/stack.md", name: "Stack" });
      const labels = (await api.json("GET", "/v1/agents/a/blocks")).body.blocks.map((block: { label: string }) => block.label);
      expect(labels).toEqual(["MEMORY", "human", "project/MEMORY", "project/stack", "tool-notes"]);
      expect((await api.json("DELETE", "/v1/agents/a/blocks/project/stack")).status).toBe(200);
      expect((await api.json("GET", "/v1/agents/a/blocks/project/stack")).status).toBe(404);
      await expectMirrorMatchesTip(api, "a");
    });

    test("seed: blocks/LABEL.md holds the whole value; labels cannot contain /", async () => {
      const api = apiFixture(await database.open(), { blockLayout: "seed" });
      const put = await api.json("PUT", "/v1/agents/a/blocks/notes", { body: { value: "---\nnot front matter\n" } });
      expect(put.status).toBe(200);
      expect(put.body.block).toMatchObject({ label: "notes", path: "blocks/notes.md", value: "---\nnot front matter\n", description: null });
      expect((await api.json("GET", "/v1/agents/a/files/blocks/notes.md")).body.content).toBe("---\nnot front matter\n");
      expect((await api.json("PUT", "/v1/agents/a/blocks/a/b", { body: { value: "x" } })).body.error.code).toBe("label.invalid");
      await expectMirrorMatchesTip(api, "a");
    });

    test("errors are JSON with stable codes: 400, 401, 404, 409, 413", async () => {
      const api = apiFixture(await database.open());
      await seeded(api, "a", { "system/tools": "a file where a directory would go\n" }, { "system/link.md": "tools" });
      const cases: [string, string, { body?: unknown; headers?: Record<string, string>; key?: string }, number, string][] = [
        ["PUT", "/v1/agents/a/blocks/a//b", { body: human }, 400, "label.invalid"],
        ["PUT", "/v1/agents/a/blocks/human", { body: "{not json" }, 400, "body.invalid"],
        ["PUT", "/v1/agents/a/blocks/human", { body: [1] }, 400, "body.invalid"],
        ["PUT", "/v1/agents/a/blocks/human", { body: { value: 3 } }, 400, "body.invalid"],
        ["PUT", "/v1/agents/a/blocks/human", { body: { ...human, limit: -1 } }, 400, "body.invalid"],
        ["PUT", "/v1/agents/a/blocks/human", { body: { ...human, author: { name: "A <b>", email: "x@y" } } }, 400, "body.invalid"],
        ["PUT", "/v1/agents/a/blocks/human", { body: { ...human, author: "Ada" } }, 400, "body.invalid"],
        ["PUT", "/v1/agents/a/blocks/human", { body: { value: "x".repeat(2 << 20) } }, 413, "body.too-large"],
        ["PUT", "/v1/agents/a/blocks/human", { body: gzipSync(new Uint8Array(4 << 20)), headers: { "content-encoding": "gzip" } }, 413, "body.too-large"],
        ["GET", "/v1/agents/a/blocks/nobody", {}, 404, "block.not-found"],
        ["DELETE", "/v1/agents/a/blocks/nobody", {}, 404, "block.not-found"],
        ["GET", "/v1/agents/a..b/blocks", {}, 404, "agent.unknown"],
        ["GET", "/v1/agents/a/files/missing.md", {}, 404, "path.unknown"],
        ["GET", "/v1/agents/a/files?ref=nope", {}, 404, "revision.unknown"],
        ["GET", "/v1/agents/fresh/files", {}, 404, "revision.unknown"],
        ["GET", "/v1/agents/a/history?limit=0", {}, 400, "query.invalid"],
        ["GET", "/v1/search", {}, 400, "query.invalid"],
        ["PUT", "/v1/agents/a/blocks/tools/x", { body: human }, 409, "tree.path-conflict"],
        ["PUT", "/v1/agents/a/blocks/link", { body: human }, 409, "block.conflict"],
        ["DELETE", "/v1/agents/a/blocks/link", {}, 409, "block.conflict"],
        ["GET", "/v1/agents/a/blocks", { key: "wrong" }, 401, "auth.required"],
      ];
      for (const [method, path, options, status, code] of cases) {
        const answer = await api.json(method, path, options);
        expect({ method, path, status: answer.status, code: answer.body.error?.code }).toEqual({ method, path, status, code });
        expect(typeof answer.body.error.message).toBe("string");
      }
      expect((await api.json("GET", "/v1/agents/a/blocks")).body.blocks).toEqual([]);
    });

    test("files at a ref: any ref name or commit id; history of a path, newest first, limited", async () => {
      const api = apiFixture(await database.open());
      const first = (await api.json("PUT", "/v1/agents/a/blocks/human", { body: human })).body.commit;
      await api.json("PUT", "/v1/agents/a/blocks/persona", { body: { value: "v1", description: "me" } });
      const third = (await api.json("PUT", "/v1/agents/a/blocks/human", { body: { ...human, value: "Grace" } })).body.commit;
      for (const ref of [first, "main", "refs/heads/main", "heads/main", "HEAD"]) {
        const answer = await api.json("GET", `/v1/agents/a/files/system/human.md?ref=${ref}`);
        expect(answer.body.content).toEndWith(ref === first ? "Name: Ada\n" : "Grace");
      }
      const directory = await api.json("GET", `/v1/agents/a/files/system?ref=${first}`);
      expect(directory.body).toMatchObject({ type: "directory", files: [expect.objectContaining({ path: "system/human.md", mode: "100644" })] });
      const history = await api.json("GET", "/v1/agents/a/history?path=system/human.md");
      expect(history.body.commits.map((commit: { id: string }) => commit.id)).toEqual([third, first]);
      expect((await api.json("GET", "/v1/agents/a/history?limit=2")).body.commits).toHaveLength(2);
      for (const path of ["nothing.md", "system//human.md", "/system"]) expect((await api.json("GET", `/v1/agents/a/history?path=${path}`)).body.commits).toEqual([]);
    });

    test("search: ranked files of the key's organisation, with highlights, filtered by agent", async () => {
      const api = apiFixture(await database.open());
      await api.json("PUT", "/v1/agents/a/blocks/human", { body: { value: "The user drinks green tea every morning.", description: "user" } });
      await api.json("PUT", "/v1/agents/b/blocks/drinks", { body: { value: "Green tea, no sugar.", description: "tea preferences" } });
      const all = await api.json("GET", "/v1/search?q=green%20tea");
      expect(all.body.results.map((hit: { agent: string; path: string }) => `${hit.agent}/${hit.path}`)).toEqual(["b/system/drinks.md", "a/system/human.md"]);
      const hit = all.body.results[1];
      expect(hit.highlights.map(([start, end]: [number, number]) => hit.snippet.slice(start, end).toLowerCase())).toEqual(["green", "tea"]);
      const filtered = await api.json("GET", "/v1/search?q=tea&agent=a&limit=5");
      expect(filtered.body.results.map((result: { agent: string }) => result.agent)).toEqual(["a"]);
    });

    test("100 concurrent PUTs to different blocks of one agent are all applied", async () => {
      const api = apiFixture(await database.open());
      const started = performance.now();
      let writing = true;
      const puts = Promise.all(
        Array.from({ length: 100 }, (_, i) => api.request("PUT", `/v1/agents/a/blocks/block-${i}`, { body: { value: `value ${i}`, description: `block ${i}` } })),
      ).finally(() => (writing = false));
      // Every write adds one block: a list read meanwhile has as many blocks as its generation.
      const lists: [number, number][] = [];
      while (writing) {
        const { body } = await api.json("GET", "/v1/agents/a/blocks");
        lists.push([body.generation, body.blocks.length]);
        // A read may complete in microtasks alone: let the writers' I/O run.
        await new Promise((resolve) => setImmediate(resolve));
      }
      const answers = await puts;
      const elapsed = performance.now() - started;
      // How many reads fit between the writes depends on the machine; each one must be consistent.
      expect(lists.length).toBeGreaterThan(0);
      expect(lists.every(([generation, blocks]) => generation === blocks)).toBe(true);
      console.log(`100 concurrent PUTs on ${kind.name}: ${elapsed.toFixed(0)} ms`);
      expect(answers.map((answer) => answer.status)).toEqual(Array(100).fill(200));
      const list = await api.json("GET", "/v1/agents/a/blocks");
      expect(list.body.blocks).toHaveLength(100);
      expect(list.body.generation).toBe(100);
      expect((await api.json("GET", "/v1/agents/a/history?limit=1000")).body.commits).toHaveLength(100);
      await expectMirrorMatchesTip(api, "a");
    });
  });
}
