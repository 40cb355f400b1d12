import type { Context, Hono } from "hono";
import { GitError } from "../git/errors.ts";
import { isValidName } from "../names.ts";
import { advertise, advertisementContentType, isGitService, resultContentType, type GitService } from "../protocol/advertise.ts";
import { handleReceivePack, type PushOutcome, type PushRequest } from "../protocol/receive-pack.ts";
import type { RepositorySnapshot } from "../protocol/snapshot.ts";
import { uploadPack } from "../protocol/upload-pack.ts";
import { parseProtocolVersion } from "../protocol/version.ts";
import { BadBodyError, BodyTooLargeError, readBody } from "./body.ts";
import type { AppEnv } from "./env.ts";

/** What the git routes need of the repository layer; one org's repositories are `{org}/{agent}`. */
export interface GitRepositories {
  snapshot(org: string, agentId: string): Promise<RepositorySnapshot>;
  push(org: string, agentId: string, request: PushRequest, pusher: { admin: boolean }): Promise<PushOutcome>;
}

export interface GitRoutesOptions {
  repositories: GitRepositories;
  maxBodyBytes: number;
}

/** The bases of the Contract: `/v1/git` and `/git` (the path a Letta server proxies to). */
export const GIT_BASES = ["/v1/git", "/git"];

const ROOT_GIT_PATH = /^\/[^/]+\/state\.git(\/|$)/;

/**
 * The routing path of a request: git paths at the root (`/{agent}/state.git/...`, where the
 * previous service's proxy forwards with `/v1/git` stripped) are served as under `/git`. Mapped
 * before routing rather than routed as a third base: a root pattern would turn every request's
 * route lookup into a slower kind (measured 3x on the up-to-date fetch).
 */
export function routingPath(path: string): string {
  return ROOT_GIT_PATH.test(path) ? `/git${path}` : path;
}

// gitprotocol-http, "Smart Clients": answers must never be cached by a proxy.
const NO_CACHE = {
  "Cache-Control": "no-cache, max-age=0, must-revalidate",
  Pragma: "no-cache",
  Expires: "Fri, 01 Jan 1980 00:00:00 GMT",
};

function text(c: Context, status: 400 | 403 | 404 | 413 | 415 | 500, message: string): Response {
  return c.text(`${message}\n`, status, NO_CACHE);
}

function agentOf(c: Context): string | undefined {
  const agent = c.req.param("agent");
  return agent !== undefined && isValidName(agent) ? agent : undefined;
}

export function mountGitRoutes(app: Hono<AppEnv>, options: GitRoutesOptions): void {
  const { repositories, maxBodyBytes } = options;

  const requireAgent = (c: Context<AppEnv>): string | Response => agentOf(c) ?? text(c, 404, "not found: invalid agent id");

  for (const base of GIT_BASES) {
    app.get(`${base}/:agent/state.git/info/refs`, async (c) => {
      const agent = requireAgent(c);
      if (agent instanceof Response) return agent;
      const service = c.req.query("service") ?? "";
      // Only the smart protocol is served; the dumb one would expose raw storage (gitprotocol-http).
      if (!isGitService(service)) return text(c, 403, `unsupported service ${JSON.stringify(service)}`);
      const snapshot = await repositories.snapshot(c.get("org"), agent);
      const body = advertise(snapshot, service, parseProtocolVersion(c.req.header("git-protocol")));
      return c.body(body as Uint8Array<ArrayBuffer>, 200, { "Content-Type": advertisementContentType(service), ...NO_CACHE });
    });

    for (const service of ["git-upload-pack", "git-receive-pack"] as const) {
      app.post(`${base}/:agent/state.git/${service}`, async (c) => {
        const agent = requireAgent(c);
        if (agent instanceof Response) return agent;
        if (c.req.header("content-type") !== `application/x-${service}-request`) {
          return text(c, 415, `expected Content-Type application/x-${service}-request`);
        }
        let body: Uint8Array;
        try {
          body = await readBody(c.req.raw, maxBodyBytes);
        } catch (error) {
          if (error instanceof BodyTooLargeError) return text(c, 413, error.message);
          if (error instanceof BadBodyError) return text(c, 400, error.message);
          throw error;
        }
        const org = c.get("org");
        const headers = { "Content-Type": resultContentType(service), ...NO_CACHE };
        try {
          const answer = await serviceAnswer(service, org, agent, body, c.req.header("git-protocol"), c.get("admin"));
          return c.body(answer as Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array<ArrayBuffer>>, 200, headers);
        } catch (error) {
          if (error instanceof GitError) return text(c, 400, error.message);
          throw error;
        }
      });
    }
  }

  async function serviceAnswer(service: GitService, org: string, agent: string, body: Uint8Array, protocolHeader: string | undefined, admin: boolean) {
    if (service === "git-upload-pack") {
      const snapshot = await repositories.snapshot(org, agent);
      return uploadPack(snapshot, body, { protocolVersion: parseProtocolVersion(protocolHeader) });
    }
    return handleReceivePack(body, (request) => repositories.push(org, agent, request, { admin }));
  }
}
