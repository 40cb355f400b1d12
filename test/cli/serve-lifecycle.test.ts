/**
 * The server's life cycle as an operator sees it, on the real process (sources and binary):
 * SIGTERM drains requests in flight and exits 0; past --shutdown-timeout a push still in flight
 * is cut and leaves the repository unchanged; --version names the build's commit.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { ZERO_OID } from "../../src/git/oid.ts";
import { PktLineBuilder } from "../../src/git/pktline/index.ts";
import { concatBytes } from "../../src/git/bytes.ts";
import { Workdir } from "../repo/support.ts";
import { buildBinaryOnce, RUNNERS } from "./runners.ts";
import { ServeProcess } from "./serve-process.ts";

buildBinaryOnce();

const TEST_TIMEOUT_MS = 90_000;

/** A receive-pack body creating refs/heads/main, and the commit it points to. */
function pushBody(): { body: Uint8Array; commit: string } {
  const work = new Workdir();
  try {
    const commit = work.commit({ "system/persona.md": "---\ndescription: me\n---\nhelpful\n" });
    const commands = new PktLineBuilder().text(`${ZERO_OID} ${commit} refs/heads/main\0report-status`).flush().toBytes();
    return { body: concatBytes([commands, work.pack([commit])]), commit };
  } finally {
    work.cleanup();
  }
}

/** A request body sent in two parts: the second only once `release` is called. */
function slowBody(bytes: Uint8Array): { stream: ReadableStream<Uint8Array>; release: () => void } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let part = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (part++ === 0) {
        controller.enqueue(bytes.subarray(0, 20));
        return;
      }
      await released;
      controller.enqueue(bytes.subarray(20));
      controller.close();
    },
  });
  return { stream, release };
}

function startPush(server: ServeProcess, body: ReadableStream<Uint8Array>): Promise<Response> {
  return fetch(`${server.url}/v1/git/agent-1/state.git/git-receive-pack`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.key}`, "content-type": "application/x-git-receive-pack-request" },
    body,
    duplex: "half",
  } as RequestInit);
}

async function advertisedRefs(server: ServeProcess): Promise<string> {
  const response = await fetch(`${server.url}/v1/git/agent-1/state.git/info/refs?service=git-upload-pack`, { headers: { authorization: `Bearer ${server.key}` } });
  expect(response.status).toBe(200);
  return response.text();
}

for (const runner of RUNNERS) {
  describe(`stategit serve life cycle, from the ${runner.name}`, () => {
    let server: ServeProcess | undefined;
    afterEach(async () => {
      await server?.stop();
      server = undefined;
    });

    test(
      "SIGTERM: no new connections, the push in flight finishes and is stored, exit 0",
      async () => {
        server = await ServeProcess.start(runner, ["--log-level", "debug", "--shutdown-timeout", "60"]);
        const { body, commit } = pushBody();
        const slow = slowBody(body);
        const answer = startPush(server, slow.stream);
        await server.waitForLog((line) => line.msg === "request started" && String(line.path).endsWith("/git-receive-pack"));
        server.signal("SIGTERM");
        await server.waitForLog((line) => line.msg.startsWith("shutting down"));
        await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
        slow.release();
        const response = await answer;
        expect(response.status).toBe(200);
        expect(await response.text()).toContain("ok refs/heads/main");
        expect(await server.exited).toBe(0);
        expect(server.logLines().at(-1)?.msg).toBe("stopped");

        await server.restart();
        expect(await advertisedRefs(server)).toContain(`${commit} refs/heads/main`);
      },
      TEST_TIMEOUT_MS,
    );

    test(
      "SIGTERM ends open event streams, so that they do not hold the shutdown to its deadline",
      async () => {
        server = await ServeProcess.start(runner, ["--shutdown-timeout", "60"]);
        const stream = await fetch(`${server.url}/v1/events`, { headers: { authorization: `Bearer ${server.key}` } });
        expect(stream.status).toBe(200);
        const reader = stream.body!.getReader();
        expect(new TextDecoder().decode((await reader.read()).value)).toStartWith("retry: ");
        server.signal("SIGTERM");
        let ended = false;
        while (!ended) ended = (await reader.read()).done;
        expect(await server.exited).toBe(0);
        expect(server.logLines().some((line) => line.msg.startsWith("shutdown deadline passed"))).toBe(false);
      },
      TEST_TIMEOUT_MS,
    );

    test(
      "past --shutdown-timeout a push still in flight is cut, the repository stays as it was, exit 0",
      async () => {
        server = await ServeProcess.start(runner, ["--log-level", "debug", "--shutdown-timeout", "0.5"]);
        const slow = slowBody(pushBody().body);
        const answer = startPush(server, slow.stream).then(
          () => "answered",
          () => "cut",
        );
        await server.waitForLog((line) => line.msg === "request started" && String(line.path).endsWith("/git-receive-pack"));
        server.signal("SIGTERM");
        expect(await server.exited).toBe(0);
        expect(await answer).toBe("cut");
        expect(server.logLines().some((line) => line.msg.startsWith("shutdown deadline passed"))).toBe(true);
        slow.release();

        await server.restart();
        expect(await advertisedRefs(server)).not.toContain("refs/heads/main");
      },
      TEST_TIMEOUT_MS,
    );

    test("--version prints the version and the commit the binary was built from", () => {
      const result = Bun.spawnSync([...runner.command, "--version"], { stdout: "pipe", stderr: "pipe" });
      expect(result.exitCode).toBe(0);
      const printed = result.stdout.toString();
      expect(printed).toMatch(/^stategit \d+\.\d+\.\d+ \(commit \S+\)\n$/);
      // From the sources there is no build step to embed a commit; the binary has one.
      if (runner.name === "sources") expect(printed).toContain("(commit dev)");
      else expect(printed).toMatch(/\(commit ([0-9a-f]{7,40}(-dirty)?|unknown)\)/);
    });
  });
}
