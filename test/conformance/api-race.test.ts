/**
 * The JSON API and the real git client writing one agent's memory at once, against a real server
 * process: every PUT answered 200 and every push that git reports pushed is in the final tree,
 * and the mirror shows exactly the tip.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { tempDir } from "../support/git.ts";
import { commitFiles, GitClient, StategitServer } from "./harness.ts";

setDefaultTimeout(300_000);

let server: StategitServer;
let git: GitClient;
let scratch: { path: string; cleanup: () => void };

beforeAll(async () => {
  scratch = tempDir("stategit-api-race-");
  git = new GitClient(2, scratch.path);
  server = await StategitServer.start({ variant: "sources" });
});

afterAll(async () => {
  await server?.stop();
  scratch?.cleanup();
});

const API_WRITES = 30;
const API_CONCURRENCY = 5;
const PUSHERS = 2;
const COMMITS_PER_PUSHER = 6;
const MAX_PUSH_ATTEMPTS = 60;

function api(agent: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.origin}/v1/agents/${agent}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${server.key}`, "content-type": "application/json", ...init.headers },
  });
}

const blockFile = (description: string, value: string) => `---\ndescription: ${description}\n---\n${value}\n`;

/** Commits one file at a time and pushes each, pulling (rebase) and pushing again whenever main moved. */
async function pusher(agent: string, index: number): Promise<number> {
  const repo = git.dir(`pusher-${index}`);
  await git.ok(["clone", "-q", server.url(agent), repo]);
  let rejected = 0;
  for (let j = 0; j < COMMITS_PER_PUSHER; j++) {
    await commitFiles(git, repo, { [`system/git-${index}-${j}.md`]: blockFile(`from git ${index}`, `pushed ${j}`) }, `git ${index} ${j}`);
    for (let attempt = 1; ; attempt++) {
      const push = await git.run(["-C", repo, "push", "-q", "origin", "HEAD:main"]);
      if (push.exitCode === 0) break;
      if (attempt === MAX_PUSH_ATTEMPTS) throw new Error(`push kept failing:\n${push.stderr}`);
      rejected++;
      await git.ok(["-C", repo, "pull", "-q", "--rebase", "origin", "main"]);
    }
  }
  return rejected;
}

async function apiWriter(agent: string): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < API_WRITES; i = next++) {
      const response = await api(agent, `/blocks/api-${i}`, { method: "PUT", body: JSON.stringify({ value: `written ${i}\n`, description: "from the API" }) });
      statuses.push(response.status);
      await response.body?.cancel();
    }
  };
  await Promise.all(Array.from({ length: API_CONCURRENCY }, worker));
  return statuses;
}

test("API writes and git pushes racing on main: none lost, and the mirror shows the tip", async () => {
  const agent = server.newAgent("race");
  expect((await api(agent, "/blocks/seed", { method: "PUT", body: JSON.stringify({ value: "seed\n", description: "first" }) })).status).toBe(200);

  const [statuses, ...rejections] = await Promise.all([apiWriter(agent), ...Array.from({ length: PUSHERS }, (_, i) => pusher(agent, i))]);
  expect(statuses).toEqual(Array(API_WRITES).fill(200));
  console.log(`api race: ${API_WRITES} PUTs and ${PUSHERS * COMMITS_PER_PUSHER} pushes; pushes told to fetch first: ${rejections.join(", ")}`);

  const check = git.dir("check");
  await git.ok(["clone", "-q", server.url(agent), check]);
  const tree = new Map(
    (await git.ok(["-C", check, "ls-tree", "-r", "HEAD"])).split("\n").map((line) => {
      const [, , , blob, path] = /^(\d+) (\w+) (\w+)\t(.*)$/.exec(line)!;
      return [path, blob] as const;
    }),
  );
  const expectedPaths = [
    "system/seed.md",
    ...Array.from({ length: API_WRITES }, (_, i) => `system/api-${i}.md`),
    ...Array.from({ length: PUSHERS * COMMITS_PER_PUSHER }, (_, k) => `system/git-${Math.floor(k / COMMITS_PER_PUSHER)}-${k % COMMITS_PER_PUSHER}.md`),
  ].sort();
  expect([...tree.keys()].sort()).toEqual(expectedPaths);
  expect(Number(await git.ok(["-C", check, "rev-list", "--count", "HEAD"]))).toBe(1 + API_WRITES + PUSHERS * COMMITS_PER_PUSHER);

  const list = (await (await api(agent, "/blocks")).json()) as { commit: string; blocks: { path: string; blob: string }[] };
  expect(list.commit).toBe(await git.revParse(check, "HEAD"));
  expect(new Map(list.blocks.map((block) => [block.path, block.blob]))).toEqual(tree);
});
