/**
 * The JSON API of shared memory (DESIGN.md, Contract, "Shared memory"): repositories, attachments,
 * versions, search across them, and the git routes' view of attachments; in process, on SQLite and
 * PostgreSQL. The real git client's clones and pushes are in test/conformance/shared-memory.test.ts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { sharedRepositoryName } from "../../src/repo/layout.ts";
import { databasePerTest, DATABASE_KINDS } from "../db/databases.ts";
import { Workdir } from "../repo/support.ts";
import { apiFixture, OTHER_ORG_KEY, type ApiFixture } from "./api-support.ts";

const workdirs: Workdir[] = [];
afterAll(() => workdirs.forEach((work) => work.cleanup()));

async function created(api: ApiFixture, name: string): Promise<string> {
  const answer = await api.json("POST", "/v1/repositories", { body: { name } });
  expect(answer.status).toBe(201);
  return answer.body.id;
}

/** Pushes commits of `files` to the shared repository, as a git client would (no rules). */
async function pushed(api: ApiFixture, id: string, ...commits: Record<string, string>[]): Promise<string[]> {
  const work = new Workdir();
  workdirs.push(work);
  const ids: string[] = [];
  for (const files of commits) {
    ids.push(work.commit(files));
    await api.push(sharedRepositoryName(id), work, ids.at(-1)!);
  }
  return ids;
}

const note = (name: string, body: string) => `---\nname: ${name}\ndescription: ${name} notes\n---\n${body}\n`;
const infoRefs = (agent: string, name: string) => `/v1/git/${agent}/repositories/${name}.git/info/refs?service=git-upload-pack`;

for (const kind of DATABASE_KINDS) {
  describe.skipIf(kind.skip !== undefined)(`shared memory API on ${kind.name}`, () => {
    const database = databasePerTest(kind);

    test("create answers the repository; names are checked and unique per organisation", async () => {
      const api = apiFixture(await database.open());
      const answer = await api.json("POST", "/v1/repositories", { body: { name: "team-notes" } });
      expect(answer.status).toBe(201);
      expect(Object.keys(answer.body).sort()).toEqual(["created_at", "id", "name", "updated_at"]);
      expect(answer.body.name).toBe("team-notes");
      expect(answer.body.id).toMatch(/^repo-[0-9a-f-]{36}$/);
      expect(new Date(answer.body.created_at).toISOString()).toBe(answer.body.created_at);
      expect((await api.json("GET", `/v1/repositories/${answer.body.id}`)).body).toEqual(answer.body);

      const duplicate = await api.json("POST", "/v1/repositories", { body: { name: "team-notes" } });
      expect(duplicate.status).toBe(409);
      expect(duplicate.body.error.code).toBe("repository.exists");
      // Another organisation has names of its own.
      expect((await api.json("POST", "/v1/repositories", { body: { name: "team-notes" }, key: OTHER_ORG_KEY })).status).toBe(201);

      for (const name of ["", ".", "..", "memory", "Memory", "a/b", "a b", "é", "x".repeat(65)]) {
        const refused = await api.json("POST", "/v1/repositories", { body: { name } });
        expect([name, refused.status, refused.body.error.code]).toEqual([name, 400, "repository.name-invalid"]);
      }
      for (const body of [{}, { name: 7 }, "not json"]) expect((await api.json("POST", "/v1/repositories", { body })).status).toBe(400);
      for (const path of ["/v1/repositories", `/v1/repositories/${answer.body.id}/versions`, "/v1/agents/a/repositories"]) {
        expect((await api.json("GET", path, { key: "sg_0000000000000009_nobody" })).body.error.code).toBe("auth.required");
      }
      expect((await api.json("POST", "/v1/repositories", { body: { name: "x".repeat(64) } })).status).toBe(201);
      expect((await api.json("POST", "/v1/repositories", { body: { name: "a.b_c-D" } })).status).toBe(201);
    });

    test("list pages by name with has_next_page; another organisation's repositories are not there", async () => {
      const api = apiFixture(await database.open());
      for (const name of ["c", "a", "e", "b", "d"]) await created(api, name);
      await api.json("POST", "/v1/repositories", { body: { name: "theirs" }, key: OTHER_ORG_KEY });
      const page = async (query: string) => {
        const { body } = await api.json("GET", `/v1/repositories${query}`);
        return [body.repositories.map((repository: { name: string }) => repository.name).join(""), body.has_next_page];
      };
      expect(await page("")).toEqual(["abcde", false]);
      expect(await page("?limit=2")).toEqual(["ab", true]);
      expect(await page("?limit=2&offset=2")).toEqual(["cd", true]);
      expect(await page("?limit=2&offset=4")).toEqual(["e", false]);
      expect(await page("?limit=5")).toEqual(["abcde", false]);
      expect(await page("?offset=9")).toEqual(["", false]);
      for (const query of ["?limit=0", "?limit=x", "?offset=-1", "?offset=1.5"]) expect((await api.json("GET", `/v1/repositories${query}`)).status).toBe(400);
      const theirs = (await api.json("GET", "/v1/repositories", { key: OTHER_ORG_KEY })).body.repositories[0];
      expect((await api.json("GET", `/v1/repositories/${theirs.id}`)).status).toBe(404);
      expect((await api.json("DELETE", `/v1/repositories/${theirs.id}`)).status).toBe(404);
      for (const id of ["repo-unknown", "a..b", "-x"]) expect((await api.json("GET", `/v1/repositories/${id}`)).body.error.code).toBe("repository.unknown");
    });

    test("an agent lists its own memory first, then what is attached; attach is idempotent; delete waits for every detach", async () => {
      const api = apiFixture(await database.open());
      const notes = await created(api, "notes");
      const plans = await created(api, "plans");
      const listed = async (agent: string) => (await api.json("GET", `/v1/agents/${agent}/repositories`)).body.repositories;
      expect(await listed("agent-1")).toEqual([{ id: "agent-1", name: "memory", is_primary: true, permissions: "read_write" }]);

      const attached = await api.json("POST", "/v1/agents/agent-1/repositories", { body: { repository_id: plans } });
      expect(attached.status).toBe(200);
      expect(attached.body).toMatchObject({ id: plans, name: "plans", is_primary: false, permissions: "read_write" });
      for (const id of [notes, notes]) expect((await api.json("POST", "/v1/agents/agent-1/repositories", { body: { repository_id: id } })).status).toBe(200);
      await api.json("POST", "/v1/agents/agent-2/repositories", { body: { repository_id: notes } });
      expect((await listed("agent-1")).map(({ name, is_primary }: { name: string; is_primary: boolean }) => `${name}:${is_primary}`)).toEqual([
        "memory:true",
        "notes:false",
        "plans:false",
      ]);

      for (const repository_id of ["repo-unknown", "a/b", 5]) expect((await api.json("POST", "/v1/agents/agent-1/repositories", { body: { repository_id } })).status).toBe(repository_id === 5 ? 400 : 404);
      const busy = await api.json("DELETE", `/v1/repositories/${notes}`);
      expect([busy.status, busy.body.error.code]).toEqual([409, "repository.attached"]);
      expect((await api.request("DELETE", `/v1/agents/agent-1/repositories/${notes}`)).status).toBe(204);
      expect((await api.json("DELETE", `/v1/agents/agent-1/repositories/${notes}`)).status).toBe(404);
      expect((await api.json("DELETE", `/v1/repositories/${notes}`)).status).toBe(409);
      expect((await api.request("DELETE", `/v1/agents/agent-2/repositories/${notes}`)).status).toBe(204);
      expect((await api.request("DELETE", `/v1/repositories/${notes}`)).status).toBe(204);
      expect((await api.json("GET", `/v1/repositories/${notes}`)).status).toBe(404);
      expect((await listed("agent-1")).map(({ name }: { name: string }) => name)).toEqual(["memory", "plans"]);
      // The name is free again.
      expect((await api.json("POST", "/v1/repositories", { body: { name: "notes" } })).status).toBe(201);
    });

    test("versions: main's commits newest first, by path and limit; a never-written repository has none", async () => {
      const api = apiFixture(await database.open());
      const id = await created(api, "notes");
      expect((await api.json("GET", `/v1/repositories/${id}/versions`)).body).toEqual({ commits: [] });
      const [first, second, third] = await pushed(api, id, { "plan.md": note("plan", "one") }, { "other.md": note("other", "x") }, { "plan.md": note("plan", "two") });
      const versions = async (query: string) => (await api.json("GET", `/v1/repositories/${id}/versions${query}`)).body.commits.map((commit: { id: string }) => commit.id);
      expect(await versions("")).toEqual([third, second, first]);
      expect(await versions("?path=plan.md")).toEqual([third, first]);
      expect(await versions("?limit=1")).toEqual([third]);
      const [commit] = (await api.json("GET", `/v1/repositories/${id}/versions?limit=1`)).body.commits;
      expect(Object.keys(commit).sort()).toEqual(["author", "committer", "id", "message", "parents"]);
      expect((await api.json("GET", "/v1/repositories/repo-nope/versions")).status).toBe(404);
    });

    test("search says which repository a hit comes from; an agent's search covers what is attached to it", async () => {
      const api = apiFixture(await database.open());
      const id = await created(api, "team");
      await pushed(api, id, { "plan.md": note("plan", "The launch needs green tea.") });
      await api.json("PUT", "/v1/agents/agent-1/blocks/human", { body: { value: "Likes green tea.", description: "user" } });
      await api.json("PUT", "/v1/agents/agent-2/blocks/human", { body: { value: "Likes green tea too.", description: "user" } });
      const sources = async (query: string) =>
        (await api.json("GET", `/v1/search?q=green+tea${query}`)).body.results
          .map((hit: { agent?: string; repository?: { id: string; name: string }; path: string }) => `${hit.agent ?? `${hit.repository!.name}@${hit.repository!.id === id}`}:${hit.path}`)
          .sort();
      expect(await sources("")).toEqual(["agent-1:system/human.md", "agent-2:system/human.md", "team@true:plan.md"]);
      expect(await sources("&agent=agent-1")).toEqual(["agent-1:system/human.md"]);
      await api.json("POST", "/v1/agents/agent-1/repositories", { body: { repository_id: id } });
      expect(await sources("&agent=agent-1")).toEqual(["agent-1:system/human.md", "team@true:plan.md"]);
      await api.request("DELETE", `/v1/agents/agent-1/repositories/${id}`);
      expect(await sources("&agent=agent-1")).toEqual(["agent-1:system/human.md"]);
    });

    test("blocks and files of a shared repository through the API, checked with the shared-memory rules", async () => {
      const api = apiFixture(await database.open());
      const id = await created(api, "team");
      expect((await api.json("GET", `/v1/repositories/${id}/blocks`)).body).toEqual({ commit: null, generation: 0, blocks: [] });
      const refused = await api.json("PUT", `/v1/repositories/${id}/blocks/plan`, { body: { value: "ship it\n" } });
      expect([refused.status, refused.body.error.code, refused.body.error.problems.map((problem: { code: string }) => problem.code)]).toEqual([
        422,
        "memory.rules",
        ["frontmatter.required-key"],
      ]);
      const written = await api.json("PUT", `/v1/repositories/${id}/blocks/plan`, { body: { value: "ship it\n", description: "the plan" } });
      expect(written.status).toBe(200);
      // Read as v2 without a root MEMORY.md: a root file is a block, with Letta Code's default name.
      expect(written.body.block).toMatchObject({ label: "plan", path: "plan.md", name: "Plan", description: "the plan", value: "ship it\n" });
      expect((await api.json("GET", `/v1/repositories/${id}/blocks`)).body.blocks).toEqual([written.body.block]);
      expect((await api.json("GET", `/v1/repositories/${id}/files/plan.md`)).body.content).toBe("---\nname: Plan\ndescription: the plan\n---\nship it\n");
      expect((await api.json("GET", `/v1/repositories/${id}/versions`)).body.commits.map((commit: { id: string }) => commit.id)).toEqual([written.body.commit]);
      expect((await api.json("DELETE", `/v1/repositories/${id}/blocks/plan`)).status).toBe(200);
      expect((await api.json("GET", `/v1/repositories/${id}/blocks/plan`)).status).toBe(404);
      for (const path of ["blocks", "files", "blocks/plan"]) expect((await api.json("GET", `/v1/repositories/repo-nope/${path}`)).body.error.code).toBe("repository.unknown");
      expect((await api.json("PUT", `/v1/repositories/${id}/blocks/plan`, { body: { value: "x", description: "d" }, key: OTHER_ORG_KEY })).status).toBe(404);
    });

    test("git: served only to agents it is attached to, else 404 like a repository that does not exist; delete removes its packs", async () => {
      const api = apiFixture(await database.open());
      const id = await created(api, "team");
      const status = async (agent: string, name: string) => (await api.request("GET", infoRefs(agent, name))).status;
      expect(await status("agent-1", "team")).toBe(404);
      const missing = await (await api.request("GET", infoRefs("agent-1", "nothing"))).text();
      expect(await (await api.request("GET", infoRefs("agent-1", "team"))).text()).toBe(missing);

      await api.json("POST", "/v1/agents/agent-1/repositories", { body: { repository_id: id } });
      const advertisement = await api.request("GET", infoRefs("agent-1", "team"));
      expect(advertisement.status).toBe(200);
      // Never written: an empty repository's advertisement.
      expect(await advertisement.text()).toContain(`${"0".repeat(40)} capabilities^{}`);
      for (const base of ["/git", ""]) expect((await api.request("GET", infoRefs("agent-1", "team").replace("/v1/git", base))).status).toBe(200);
      // The path without `.git` is no repository, even when the name is attached.
      expect((await api.request("GET", infoRefs("agent-1", "team").replace("team.git", "team"))).status).toBe(404);
      expect(await status("agent-2", "team")).toBe(404);
      expect((await api.request("GET", infoRefs("agent-1", "team"), { key: OTHER_ORG_KEY })).status).toBe(404);

      await pushed(api, id, { "plan.md": note("plan", "x") });
      const packs = async () => (await api.store.list(`acme/repositories/${id}/`)).map(({ key }) => key);
      expect((await packs()).length).toBeGreaterThan(0);
      await api.request("DELETE", `/v1/agents/agent-1/repositories/${id}`);
      expect(await status("agent-1", "team")).toBe(404);
      expect((await api.request("DELETE", `/v1/repositories/${id}`)).status).toBe(204);
      expect(await packs()).toEqual([]);
      expect((await api.mirror.files("acme", sharedRepositoryName(id))).length).toBe(0);
    });
  });
}
