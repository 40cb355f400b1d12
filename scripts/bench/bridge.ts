/**
 * Small HTTP servers the serve benchmark runs as child processes (so each can be pinned to a
 * core of its own):
 *
 *   bun run scripts/bench/bridge.ts cgi PORT BACKEND PROJECT_ROOT
 *     C git's `git http-backend` as a CGI program, one process per request (RFC 3875): the
 *     fallback when lighttpd cannot be had.
 *   bun run scripts/bench/bridge.ts canned PORT ADVERTISEMENT_FILE LS_REFS_FILE
 *     Answers the two requests of an up-to-date fetch with fixed bytes: the load client's ceiling.
 *
 * Both listen on 127.0.0.1 only and serve the repository paths under GIT_BASE.
 */
import { readFileSync } from "node:fs";

export const GIT_BASE = "/v1/git";
export const ADVERTISEMENT_TYPE = "application/x-git-upload-pack-advertisement";
export const RESULT_TYPE = "application/x-git-upload-pack-result";

/** The response a CGI program wrote: `Status:` and other header lines, a blank line, the body. */
export function parseCgiOutput(output: Uint8Array): Response {
  const text = new TextDecoder("latin1").decode(output.subarray(0, Math.min(output.length, 8192)));
  const match = /\r?\n\r?\n/.exec(text);
  if (!match) return new Response("CGI program wrote no header block\n", { status: 502 });
  const headers = new Headers();
  let status = 200;
  for (const line of text.slice(0, match.index).split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 500;
    else headers.append(name, value);
  }
  return new Response(output.subarray(match.index + match[0].length), { status, headers });
}

function serveCgi(port: number, backend: string, projectRoot: string): void {
  Bun.serve({
    hostname: "127.0.0.1",
    port,
    async fetch(request) {
      const url = new URL(request.url);
      if (!url.pathname.startsWith(`${GIT_BASE}/`)) return new Response("not found\n", { status: 404 });
      const body = new Uint8Array(await request.arrayBuffer());
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        GATEWAY_INTERFACE: "CGI/1.1",
        SERVER_PROTOCOL: "HTTP/1.1",
        REQUEST_METHOD: request.method,
        PATH_INFO: decodeURIComponent(url.pathname.slice(GIT_BASE.length)),
        QUERY_STRING: url.search.slice(1),
        CONTENT_LENGTH: String(body.length),
        CONTENT_TYPE: request.headers.get("content-type") ?? "",
        REMOTE_ADDR: "127.0.0.1",
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: "1",
      };
      for (const [name, value] of request.headers) env[`HTTP_${name.toUpperCase().replaceAll("-", "_")}`] = value;
      const child = Bun.spawn([backend], { env, stdin: body, stdout: "pipe", stderr: "inherit" });
      const output = new Uint8Array(await new Response(child.stdout).arrayBuffer());
      await child.exited;
      return parseCgiOutput(output);
    },
  });
}

function serveCanned(port: number, advertisement: Uint8Array, lsRefs: Uint8Array): void {
  Bun.serve({
    hostname: "127.0.0.1",
    port,
    async fetch(request) {
      if (request.method === "GET") return new Response(advertisement, { headers: { "Content-Type": ADVERTISEMENT_TYPE } });
      await request.arrayBuffer();
      return new Response(lsRefs, { headers: { "Content-Type": RESULT_TYPE } });
    },
  });
}

if (import.meta.main) {
  const [mode, port, first, second] = process.argv.slice(2);
  if (mode === "cgi" && second) serveCgi(Number(port), first, second);
  else if (mode === "canned" && second) serveCanned(Number(port), readFileSync(first), readFileSync(second));
  else {
    process.stderr.write("usage: bridge.ts cgi PORT BACKEND PROJECT_ROOT | canned PORT ADVERTISEMENT_FILE LS_REFS_FILE\n");
    process.exit(2);
  }
}
