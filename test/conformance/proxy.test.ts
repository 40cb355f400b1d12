/**
 * stategit behind the two proxies that front it in deployments (DESIGN.md, Contract, "Git over
 * HTTP"), played here by small Bun servers, driven through the sequence Letta Code's client runs:
 * clone with a Basic `letta:KEY` header, commit, push, pull --rebase, a push the memory rules
 * refuse, fixed and pushed again.
 * - A Letta server authenticates its own users, proxies `/v1/git/{agent}/state.git/*` (and an
 *   attached shared repository's `/v1/git/{agent}/repositories/{name}.git/*`) to
 *   `{memfs service}/git/...` and adds `X-Organization-Id` (stategit runs --trust-org-header).
 * - The previous service's proxy forwards `/v1/git/{path}` to `http://127.0.0.1:PORT/{path}`,
 *   the prefix stripped, credentials untouched.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { tempDir } from "../support/git.ts";
import { CASE_TIMEOUT_MS, commitFiles, GitClient, StategitServer } from "./harness.ts";

setDefaultTimeout(CASE_TIMEOUT_MS);

const LETTA_USER_TOKEN = "letta-user-token";
const FORWARDED_HEADERS = ["content-type", "content-encoding", "content-length", "git-protocol", "accept", "accept-encoding", "user-agent"];

let server: StategitServer;
let git: GitClient;
let scratch: { path: string; cleanup: () => void };
const proxies: ReturnType<typeof Bun.serve>[] = [];

/** A proxy that forwards to where `route` maps a request, adding the headers it names, streaming both ways. */
function startProxy(route: (request: Request, path: string) => { target: string; headers: Record<string, string> } | Response) {
  const proxy = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      const url = new URL(request.url);
      const routed = route(request, url.pathname);
      if (routed instanceof Response) return routed;
      const headers = new Headers(routed.headers);
      for (const name of FORWARDED_HEADERS) {
        const value = request.headers.get(name);
        if (value !== null) headers.set(name, value);
      }
      const answer = await fetch(`${routed.target}${url.search}`, { method: request.method, headers, body: request.body, decompress: false } as RequestInit);
      return new Response(answer.body, { status: answer.status, headers: answer.headers });
    },
  });
  proxies.push(proxy);
  return `http://127.0.0.1:${proxy.port}`;
}

beforeAll(async () => {
  scratch = tempDir("stategit-conformance-proxy-");
  git = new GitClient(2, scratch.path);
  server = await StategitServer.start({ variant: "sources", flags: ["--trust-org-header"] });
});

afterAll(async () => {
  for (const proxy of proxies) proxy.stop(true);
  await server?.stop();
  scratch?.cleanup();
});

const basic = (token: string) => `Basic ${Buffer.from(`letta:${token}`).toString("base64")}`;

const PERSONA = "---\ndescription: Who I am and how I speak\n---\nI am helpful.\n";

/** Letta Code's sequence against `remote`, authenticating with `token` in an extra header as its client does. */
async function lettaCodeSequence(remote: string, token: string): Promise<void> {
  const auth = ["-c", `http.extraHeader=Authorization: ${basic(token)}`];
  const first = git.dir("first");
  await git.ok([...auth, "clone", "-q", remote, first]);
  await git.ok(["-C", first, "checkout", "-q", "-b", "main"]);
  await commitFiles(git, first, { "system/persona.md": PERSONA }, "persona");
  await git.ok([...auth, "-C", first, "push", "-q", "origin", "HEAD:main"]);

  const second = git.dir("second");
  await git.ok([...auth, "clone", "-q", remote, second]);
  await commitFiles(git, second, { "system/persona.md": PERSONA.replace("helpful", "helpful and brief") }, "brief");
  await git.ok([...auth, "-C", second, "push", "-q", "origin", "HEAD:main"]);

  await commitFiles(git, first, { "reference/tools.md": "---\ndescription: Tools I use\n---\ngit\n" }, "tools");
  await git.ok([...auth, "-C", first, "pull", "-q", "--rebase", "origin", "main"]);

  await commitFiles(git, first, { "system/human.md": "The user is Ada.\n" }, "human without front matter");
  const refused = await git.fails([...auth, "-C", first, "push", "origin", "HEAD:main"]);
  expect(refused.stderr).toContain("remote: system/human.md: ");
  expect(refused.stderr).toContain("[remote rejected] HEAD -> main (refused by the memory rules (1 problem))");

  await commitFiles(git, first, { "system/human.md": "---\ndescription: The user\n---\nThe user is Ada.\n" }, "human, fixed");
  await git.ok([...auth, "-C", first, "push", "-q", "origin", "HEAD:main"]);
  await git.ok([...auth, "-C", second, "pull", "-q", "--rebase", "origin", "main"]);
  expect(await git.revParse(second, "HEAD")).toBe(await git.revParse(first, "HEAD"));
  await git.fsck(second);
}

describe("behind a proxy", () => {
  test("a Letta server: its own authentication, /v1/git → /git with X-Organization-Id", async () => {
    const origin = lettaServer();
    const agent = server.newAgent("letta");
    await lettaCodeSequence(`${origin}/v1/git/${agent}/state.git`, LETTA_USER_TOKEN);
    // Without credentials the Letta server, not stategit, answers.
    expect((await fetch(`${origin}/v1/git/${agent}/state.git/info/refs?service=git-upload-pack`)).status).toBe(401);
  });

  test("the previous service's proxy: /v1/git/{path} → /{path}, credentials passed through", async () => {
    const origin = previousProxy();
    const agent = server.newAgent("seed");
    await lettaCodeSequence(`${origin}/v1/git/${agent}/state.git`, server.key);
    const denied = await fetch(`${origin}/v1/git/${agent}/state.git/info/refs?service=git-upload-pack`, { headers: { Authorization: basic("wrong") } });
    expect(denied.status).toBe(401);
  });

  test("a shared repository attached to two agents, each through a different proxy", async () => {
    const [first, second] = [server.newAgent("sharer"), server.newAgent("sharer")];
    await server.admin(["repo", "create", server.org, "team"]);
    for (const agent of [first, second]) await server.admin(["repo", "attach", server.org, agent, "team"]);
    await sharedSequence(`${lettaServer()}/v1/git/${first}/repositories/team.git`, LETTA_USER_TOKEN, `${previousProxy()}/v1/git/${second}/repositories/team.git`, server.key);
  });
});

/** Letta Code's sync of an attached repository: a clone of the never-written repository, pushes from two agents, a refused push. */
async function sharedSequence(firstRemote: string, firstToken: string, secondRemote: string, secondToken: string): Promise<void> {
  const auth = (token: string) => ["-c", `http.extraHeader=Authorization: ${basic(token)}`];
  const first = git.dir("shared-first");
  await git.ok([...auth(firstToken), "clone", "-q", firstRemote, first]);
  await git.ok(["-C", first, "checkout", "-q", "-b", "main"]);
  await commitFiles(git, first, { "docs/plan.md": "---\nname: plan\ndescription: The plan\n---\nShip it.\n" }, "plan");
  await git.ok([...auth(firstToken), "-C", first, "push", "-q", "origin", "HEAD:main"]);

  const second = git.dir("shared-second");
  await git.ok([...auth(secondToken), "clone", "-q", secondRemote, second]);
  await commitFiles(git, second, { "docs/notes.md": "No front matter.\n" }, "notes");
  const refused = await git.fails([...auth(secondToken), "-C", second, "push", "origin", "HEAD:main"]);
  expect(refused.stderr).toContain("remote: docs/notes.md: ");
  await commitFiles(git, second, { "docs/notes.md": "---\nname: notes\ndescription: Notes\n---\nNo front matter no more.\n" }, "notes, fixed");
  await git.ok([...auth(secondToken), "-C", second, "push", "-q", "origin", "HEAD:main"]);
  await git.ok([...auth(firstToken), "-C", first, "pull", "-q", "--rebase", "origin", "main"]);
  expect(await git.revParse(first, "HEAD")).toBe(await git.revParse(second, "HEAD"));
  await git.fsck(first);
}

/** A Letta server: its own authentication, `/v1/git/*` → `/git/*` with X-Organization-Id. */
function lettaServer(): string {
  return startProxy((request, path) => {
    const match = /^\/v1\/git\/([^/]+\/(?:state\.git|repositories\/[^/]+\.git)\/.*)$/.exec(path);
    if (!match) return new Response("not found\n", { status: 404 });
    if (request.headers.get("authorization") !== basic(LETTA_USER_TOKEN)) {
      return new Response("unauthorized\n", { status: 401, headers: { "WWW-Authenticate": 'Basic realm="letta"' } });
    }
    return { target: `${server.origin}/git/${match[1]}`, headers: { "X-Organization-Id": server.org } };
  });
}

/** The previous service's proxy: `/v1/git/{path}` → `/{path}`, credentials passed through. */
function previousProxy(): string {
  return startProxy((request, path) => {
    if (!path.startsWith("/v1/git/")) return new Response("not found\n", { status: 404 });
    const headers: Record<string, string> = {};
    const authorization = request.headers.get("authorization");
    if (authorization !== null) headers.Authorization = authorization;
    return { target: `${server.origin}/${path.slice("/v1/git/".length)}`, headers };
  });
}
