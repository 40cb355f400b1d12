/**
 * Change events across `stategit serve` processes on one database: a subscriber of instance B sees
 * a push acknowledged by instance A (PostgreSQL: LISTEN/NOTIFY, target 100 ms; SQLite: polling,
 * about a second). The latencies are printed, not asserted: they measure the machine as much as
 * the code.
 */
import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { commitFiles, type GitClient } from "../conformance/harness.ts";
import { DATABASE_KINDS } from "../db/databases.ts";
import { deploymentPerDescribe, FILE_AND_SQLITE, POSTGRES_SKIP, type Backend } from "../resilience/support.ts";
import { EVENT_DEADLINE_MS } from "./support.ts";

const FILE_AND_POSTGRES: Backend = {
  name: "file + PostgreSQL",
  skip: POSTGRES_SKIP,
  deploy: async () => {
    const database = await DATABASE_KINDS.find((kind) => kind.name === "postgres")!.create();
    return { server: { database: database.url }, cleanup: () => database.cleanup() };
  },
};

const PUSHES = 8;

/** The `event: change` frames of an SSE response, as they arrive, with the time each was read. */
class ChangeReader {
  private buffer = "";
  private readonly decoder = new TextDecoder();
  private readonly reader;

  constructor(response: Response) {
    this.reader = response.body!.getReader();
  }

  async next(): Promise<{ data: any; at: number }> {
    const deadline = Bun.sleep(EVENT_DEADLINE_MS).then(() => "deadline" as const);
    for (;;) {
      const end = this.buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const data = /^data: (.*)$/m.exec(block);
        if (block.includes("event: change") && data) return { data: JSON.parse(data[1]), at: performance.now() };
        continue;
      }
      const read = await Promise.race([this.reader.read(), deadline]);
      if (read === "deadline") throw new Error("no change event arrived");
      if (read.done) throw new Error("the stream ended");
      this.buffer += this.decoder.decode(read.value, { stream: true });
    }
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(1);
  return `median ${at(0.5)} ms, max ${at(1)} ms (n=${sorted.length})`;
}

for (const backend of [FILE_AND_POSTGRES, FILE_AND_SQLITE]) {
  describe.skipIf(backend.skip !== undefined)(`change events across two instances on ${backend.name}`, () => {
    const running = deploymentPerDescribe(backend, 2);

    /** A new agent, and a local repository whose pushes go to it. */
    async function agentAndRepository(name: string): Promise<{ git: GitClient; agent: string; repo: string }> {
      const git = running.git;
      const repo = git.dir(name);
      await git.ok(["init", "-q", "-b", "main", repo]);
      return { git, agent: running.instances[0].newAgent(name), repo };
    }

    test("a subscriber of instance B sees each push acknowledged by instance A; the latency is printed", async () => {
      const [a, b] = running.instances;
      const { git, agent, repo } = await agentAndRepository("events");
      const stream = await fetch(`${b.origin}/v1/agents/${agent}/events?last_event_id=0`, { headers: { authorization: `Bearer ${a.key}` } });
      expect(stream.status).toBe(200);
      const changes = new ChangeReader(stream);
      const afterAck: number[] = [];
      const afterPushStart: number[] = [];
      for (let i = 1; i <= PUSHES; i++) {
        const commit = await commitFiles(git, repo, { [`notes/${i}.md`]: `note ${i}\n` }, `note ${i}`);
        const arrival = changes.next();
        const started = performance.now();
        await git.ok(["-C", repo, "push", "-q", a.url(agent), "main"]);
        const acknowledged = performance.now();
        const { data, at } = await arrival;
        expect(data).toMatchObject({ agent, generation: i, after: commit, source: "git", paths: [{ path: `notes/${i}.md`, change: "added" }] });
        afterAck.push(at - acknowledged);
        afterPushStart.push(at - started);
      }
      await changes.cancel();
      console.log(
        `${backend.name}: event on instance B after instance A acknowledged the push (git push exited; negative: before): ${summary(afterAck)}; ` +
          `after the push started: ${summary(afterPushStart)}`,
      );
    });

    test("a git push to a shared repository on instance A reaches, on instance B, the attached agent's stream and the organisation's, not another agent's", async () => {
      const [a, b] = running.instances;
      const { git, agent: attached, repo } = await agentAndRepository("sharer");
      const other = a.newAgent("bystander");
      const id = (await a.admin(["repo", "create", a.org, "team"])).stdout.trim();
      await a.admin(["repo", "attach", a.org, attached, "team"]);
      const open = async (path: string) => {
        const response = await fetch(`${b.origin}${path}`, { headers: { authorization: `Bearer ${a.key}` } });
        expect(response.status).toBe(200);
        return new ChangeReader(response);
      };
      const [onAttached, onOther, onOrganisation] = [await open(`/v1/agents/${attached}/events`), await open(`/v1/agents/${other}/events`), await open("/v1/events")];
      const commit = await commitFiles(git, repo, { "plan.md": "---\nname: plan\ndescription: the plan\n---\nship it\n" }, "plan");
      await git.ok(["-C", repo, "push", "-q", a.url(attached, { repository: "team" }), "main"]);
      const shared = { repository: { id, name: "team" }, agents: [attached], generation: 1, after: commit, source: "git" };
      expect((await onAttached.next()).data).toMatchObject(shared);
      expect((await onOrganisation.next()).data).toMatchObject(shared);
      // The bystander's first event is its own later write: the shared push never came before it.
      await commitFiles(git, repo, { "own.md": "mine\n" }, "own");
      await git.ok(["-C", repo, "push", "-q", a.url(other), "main"]);
      expect((await onOther.next()).data).toMatchObject({ agent: other, generation: 1 });
      for (const reader of [onAttached, onOther, onOrganisation]) await reader.cancel();
    });

    test("a webhook added with the CLI gets each push once, in order, signed, though both instances deliver", async () => {
      const [a, b] = running.instances;
      const { git, agent, repo } = await agentAndRepository("hooked");
      const received: { generation: number; signed: boolean }[] = [];
      const receiver = Bun.serve({
        port: 0,
        hostname: "127.0.0.1",
        async fetch(request) {
          const body = await request.text();
          const signed = request.headers.get("x-stategit-signature") === `sha256=${createHmac("sha256", "s3cret").update(body).digest("hex")}`;
          const event = JSON.parse(body);
          if (event.agent === agent) received.push({ generation: event.generation, signed });
          return new Response(null, { status: 204 });
        },
      });
      try {
        const added = await a.admin(["webhook", "add", a.org, `http://127.0.0.1:${receiver.port}/hook`, "--secret", "s3cret"]);
        expect(added.stdout).toMatch(/^wh_[0-9a-f]{16}\n$/);
        for (let i = 1; i <= 6; i++) {
          await commitFiles(git, repo, { [`notes/${i}.md`]: `note ${i}\n` }, `note ${i}`);
          await git.ok(["-C", repo, "push", "-q", (i % 2 === 0 ? b : a).url(agent), "main"]);
        }
        const deadline = Date.now() + EVENT_DEADLINE_MS;
        while (received.length < 6 && Date.now() < deadline) await Bun.sleep(20);
        // Each agent's cursor only moves forward, so a repeat of an earlier event could not follow the sixth.
        expect(received).toEqual([1, 2, 3, 4, 5, 6].map((generation) => ({ generation, signed: true })));
        expect((await a.admin(["webhook", "list", a.org])).stdout).toContain("\tlast 204 at ");
      } finally {
        receiver.stop(true);
      }
    });
  });
}
