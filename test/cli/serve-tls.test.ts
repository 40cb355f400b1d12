/**
 * HTTPS served by the process itself (--tls-cert, --tls-key), driven by the real git client and
 * raw TLS connections: SIGHUP gives new connections the new certificate while a keep-alive
 * connection opened before goes on with the old one; unusable files keep the old certificate.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import { gitAsync, tempDir } from "../support/git.ts";
import { buildBinaryOnce, RUNNERS } from "./runners.ts";
import { ServeProcess } from "./serve-process.ts";

buildBinaryOnce();

const TEST_TIMEOUT_MS = 90_000;
const HAS_OPENSSL = Bun.which("openssl") !== null;

/** A self-signed certificate for 127.0.0.1 whose common name is `name`: `{dir}/{name}.crt` and `.key`. */
function makeCertificate(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const result = Bun.spawnSync(
    ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${name}`, "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
    { stdout: "pipe", stderr: "pipe" },
  );
  if (result.exitCode !== 0) throw new Error(`openssl failed: ${result.stderr.toString()}`);
  return { cert, key };
}

/** A TLS connection to the server that trusts `ca`, and its certificate's common name. */
async function open(url: string, ca: string): Promise<{ socket: TLSSocket; commonName: string }> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port), ca: await Bun.file(ca).text() });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", resolve);
    socket.once("error", reject);
  });
  return { socket, commonName: String(socket.getPeerCertificate().subject.CN) };
}

/** One keep-alive HTTP/1.1 request on an open connection; resolves to the body. */
function get(socket: TLSSocket, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = "";
    const onData = (chunk: Buffer) => {
      received += chunk.toString("latin1");
      const end = received.indexOf("\r\n\r\n");
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(received)?.[1] ?? NaN);
      if (end < 0 || received.length < end + 4 + length) return;
      socket.off("data", onData);
      resolve(received.slice(end + 4, end + 4 + length));
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: stategit\r\n\r\n`);
  });
}

for (const runner of RUNNERS) {
  describe.skipIf(!HAS_OPENSSL)(`HTTPS from the ${runner.name} (needs openssl to make certificates)`, () => {
    const dir = tempDir("stategit-tls-");
    const served = { cert: join(dir.path, "served.crt"), key: join(dir.path, "served.key") };
    let first: { cert: string; key: string };
    let second: { cert: string; key: string };
    let server: ServeProcess;
    // GIT_SSL_CAINFO, not http.sslCAInfo: the variable beats the setting, and machines may set it.
    const git = async (args: string[], ca: string) => {
      const result = await gitAsync(args, { cwd: dir.path, env: { GIT_SSL_CAINFO: ca } });
      if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
      return new TextDecoder().decode(result.stdout);
    };
    const repoUrl = () => `${server.url.replace("https://", `https://letta:${server.key}@`)}/v1/git/agent-1/state.git`;

    beforeAll(async () => {
      first = makeCertificate(dir.path, "first");
      second = makeCertificate(dir.path, "second");
      copyFileSync(first.cert, served.cert);
      copyFileSync(first.key, served.key);
      server = await ServeProcess.start(runner, ["--tls-cert", served.cert, "--tls-key", served.key]);
    }, TEST_TIMEOUT_MS);
    afterAll(async () => {
      await server?.stop();
      dir.cleanup();
    });

    test(
      "git clones and pushes over HTTPS; SIGHUP: new connections get the new certificate, an open one goes on",
      async () => {
        expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        await git(["clone", "-q", repoUrl(), "clone"], first.cert);
        const clone = join(dir.path, "clone");
        writeFileSync(join(clone, "notes.md"), "over TLS\n");
        await gitAsync(["add", "."], { cwd: clone });
        await gitAsync(["commit", "-q", "-m", "tls"], { cwd: clone });
        await git(["-C", clone, "push", "-q", "origin", "HEAD:main"], first.cert);

        const before = await open(server.url, first.cert);
        expect(before.commonName).toBe("first");
        expect(await get(before.socket, "/healthz")).toBe("ok\n");

        copyFileSync(second.cert, served.cert);
        copyFileSync(second.key, served.key);
        server.signal("SIGHUP");
        await server.waitForLog((line) => line.msg.startsWith("SIGHUP: TLS certificate and key re-read"));

        const after = await open(server.url, second.cert);
        expect(after.commonName).toBe("second");
        expect(await get(before.socket, "/healthz")).toBe("ok\n");
        expect(await git(["ls-remote", repoUrl(), "refs/heads/main"], second.cert)).toContain("refs/heads/main");
        before.socket.destroy();
        after.socket.destroy();
      },
      TEST_TIMEOUT_MS,
    );

    test(
      "SIGHUP with an unusable key keeps the certificate being served",
      async () => {
        writeFileSync(served.key, "not a key\n");
        server.signal("SIGHUP");
        await server.waitForLog((line) => line.msg.startsWith("SIGHUP: TLS certificate and key not reloaded"));
        const still = await open(server.url, second.cert);
        expect(still.commonName).toBe("second");
        expect(await get(still.socket, "/healthz")).toBe("ok\n");
        still.socket.destroy();
      },
      TEST_TIMEOUT_MS,
    );
  });
}
