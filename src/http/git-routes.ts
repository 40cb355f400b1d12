import type { Context, Hono } from "hono";
import { GitError } from "../git/errors.ts";
import { isValidName } from "../names.ts";
import { advertise, advertisementContentType, isGitService, repositoryFreeAdvertisement, resultContentType, type GitService } from "../protocol/advertise.ts";
import { handleReceivePack, type PushOutcome, type PushRequest } from "../protocol/receive-pack.ts";
import type { PackJobRunner } from "../protocol/pack-job.ts";
import type { RepositorySnapshot } from "../protocol/snapshot.ts";
import { uploadPack } from "../protocol/upload-pack.ts";
import { parseProtocolVersion } from "../protocol/version.ts";
import { BadBodyError, BodyTooLargeError, readBody } from "./body.ts";
import type { AppEnv } from "./env.ts";
import type { Metrics } from "./metrics.ts";
import type { RequestRecord } from "./request-log.ts";

/**
 * The repository a git URL addresses within the key's organisation: an agent's own memory
 * (`{agent}/state.git`), or the shared repository named `shared` as attached to that agent
 * (`{agent}/repositories/{shared}.git`).
 */
export interface GitAddress {
  agent: string;
  shared?: string;
}

/** One addressed repository, resolved for one request. */
export interface GitTarget {
  snapshot(): Promise<RepositorySnapshot>;
  push(request: PushRequest, pusher: { admin: boolean }): Promise<PushOutcome>;
}

/** What the git routes need of the repository layer. */
export interface GitRepositories {
  /** The addressed repository; undefined when there is none for this agent (a shared repository not attached to it). */
  resolve(org: string, address: GitAddress): Promise<GitTarget | undefined> | GitTarget | undefined;
}

export interface GitRoutesOptions {
  repositories: GitRepositories;
  maxBodyBytes: number;
  metrics: Metrics;
  /** Where the packs of clones and large fetches are made (the worker pool); absent, on the request thread. */
  offload?: PackJobRunner;
}

/** The bases of the Contract: `/v1/git` and `/git` (the path a Letta server proxies to). */
export const GIT_BASES = ["/v1/git", "/git"];

/**
 * Where each repository of an agent is, below `{base}/{agent}`; a shared repository's segment is
 * `{name}.git` (checked in addressOf, so that the route, also a metrics label, stays plain).
 */
export const GIT_REPOSITORY_PATHS = ["state.git", "repositories/:shared"];

const GIT_SUFFIX = ".git";
/** The answer for a shared repository that does not exist or is not attached to the agent: the same for both. */
const NO_SUCH_REPOSITORY = "not found: no such repository";

const ROOT_GIT_PATH = /^\/[^/]+\/(?:state\.git|repositories\/[^/]+\.git)(\/|$)/;

/**
 * The routing path of a request: git paths at the root (`/{agent}/state.git/...` and
 * `/{agent}/repositories/{name}.git/...`, where the previous service's proxy forwards with
 * `/v1/git` stripped) are served as under `/git`. Mapped before routing rather than routed as a
 * third base: a root pattern would turn every request's route lookup into a slower kind
 * (measured 3x on the up-to-date fetch).
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

const GIT_SERVICES = ["git-upload-pack", "git-receive-pack"] as const satisfies readonly GitService[];

/** Each service's answer headers, built once rather than per request. */
function headersByService(contentType: (service: GitService) => string): Record<GitService, Record<string, string>> {
  const headers = (service: GitService) => ({ "Content-Type": contentType(service), ...NO_CACHE });
  return { "git-upload-pack": headers("git-upload-pack"), "git-receive-pack": headers("git-receive-pack") };
}
const ADVERTISEMENT_HEADERS = headersByService(advertisementContentType);
const RESULT_HEADERS = headersByService(resultContentType);

/** An error answer; its message is the request's refusal in the log. */
function text(c: Context<AppEnv>, status: 400 | 403 | 404 | 413 | 415, message: string): Response {
  c.get("record").refusal = message;
  return c.text(`${message}\n`, status, NO_CACHE);
}

/** An answer whose size is known, told to the request log so it need not count the body. */
function bytes(c: Context<AppEnv>, body: Uint8Array, headers: Record<string, string>): Response {
  c.get("record").bytesOut = body.length;
  // Not c.body: with several headers it builds them one call at a time; the runtime does it at once.
  return new Response(body as Uint8Array<ArrayBuffer>, { status: 200, headers });
}

/** The repository the path addresses, or why it addresses none. */
function addressOf(c: Context): GitAddress | { refusal: string } {
  const agent = c.req.param("agent");
  if (agent === undefined || !isValidName(agent)) return { refusal: "not found: invalid agent id" };
  const segment = c.req.param("shared");
  if (segment === undefined) return { agent };
  if (!segment.endsWith(GIT_SUFFIX)) return { refusal: NO_SUCH_REPOSITORY };
  return { agent, shared: segment.slice(0, -GIT_SUFFIX.length) };
}

export function mountGitRoutes(app: Hono<AppEnv>, options: GitRoutesOptions): void {
  const { repositories, maxBodyBytes, metrics, offload } = options;

  /** The addressed repository, or the 404 answer: an unattached shared repository is as absent as a nonexistent one. */
  const requireTarget = async (c: Context<AppEnv>): Promise<GitTarget | Response> => {
    const address = addressOf(c);
    if ("refusal" in address) return text(c, 404, address.refusal);
    const record = c.get("record");
    record.agent = address.agent;
    record.repository = address.shared;
    const target = await repositories.resolve(c.get("org"), address);
    return target ?? text(c, 404, NO_SUCH_REPOSITORY);
  };

  for (const base of GIT_BASES) {
    for (const repository of GIT_REPOSITORY_PATHS) {
      app.get(`${base}/:agent/${repository}/info/refs`, async (c) => {
        const service = c.req.query("service") ?? "";
        c.get("record").service = service;
        const target = await requireTarget(c);
        if (target instanceof Response) return target;
        // Only the smart protocol is served; the dumb one would expose raw storage (gitprotocol-http).
        if (!isGitService(service)) return text(c, 403, `unsupported service ${JSON.stringify(service)}`);
        const version = parseProtocolVersion(c.req.header("git-protocol"));
        const body = repositoryFreeAdvertisement(service, version) ?? advertise(await target.snapshot(), service, version);
        return bytes(c, body, ADVERTISEMENT_HEADERS[service]);
      });

      for (const service of GIT_SERVICES) {
        app.post(`${base}/:agent/${repository}/${service}`, async (c) => {
          const record = c.get("record");
          record.service = service;
          const target = await requireTarget(c);
          if (target instanceof Response) return target;
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
          record.bytesIn = body.length;
          const headers = RESULT_HEADERS[service];
          try {
            const answer = await serviceAnswer(service, target, body, c.req.header("git-protocol"), record, c.get("admin"));
            if (answer instanceof ReadableStream) return c.body(answer as ReadableStream<Uint8Array<ArrayBuffer>>, 200, headers);
            record.refusal ??= errorPacketMessage(answer);
            return bytes(c, answer, headers);
          } catch (error) {
            if (error instanceof GitError) return text(c, 400, error.message);
            throw error;
          }
        });
      }
    }
  }

  async function serviceAnswer(service: GitService, target: GitTarget, body: Uint8Array, protocolHeader: string | undefined, record: RequestRecord, admin: boolean) {
    if (service === "git-upload-pack") {
      return uploadPack(await target.snapshot(), body, { protocolVersion: parseProtocolVersion(protocolHeader), onPackSent: (objects) => metrics.packSent(objects), offload });
    }
    return handleReceivePack(body, async (request) => {
      // Counted first: a worker thread may take the pack's buffer.
      const objects = packObjectCount(request.pack);
      const outcome = await target.push(request, { admin });
      if (outcome.unpackError === undefined) metrics.packReceived(objects);
      record.refusal = pushRefusal(outcome);
      return outcome;
    });
  }
}

const ERR_PREFIX = "ERR ";

/** The message of an `ERR` packet (upload-pack's refusal), or undefined for any other answer. */
function errorPacketMessage(answer: Uint8Array): string | undefined {
  const payload = 4;
  if (answer.length < payload + ERR_PREFIX.length) return undefined;
  for (let i = 0; i < ERR_PREFIX.length; i++) if (answer[payload + i] !== ERR_PREFIX.charCodeAt(i)) return undefined;
  return new TextDecoder().decode(answer.subarray(payload + ERR_PREFIX.length)).trimEnd();
}

/** Why a push was refused, as its report says it: the unpack error, or each `ng` line's ref and reason. */
function pushRefusal(outcome: PushOutcome): string | undefined {
  if (outcome.unpackError !== undefined) return `unpack: ${outcome.unpackError}`;
  const refused = outcome.statuses.flatMap((status) => (status.ok ? [] : [`${status.ref}: ${status.reason}`]));
  return refused.length > 0 ? refused.join("; ") : undefined;
}

/** The object count of a pack's header (it was verified while unpacking); 0 without a pack. */
function packObjectCount(pack: Uint8Array | undefined): number {
  const header = 12;
  if (!pack || pack.length < header) return 0;
  return new DataView(pack.buffer, pack.byteOffset, header).getUint32(8);
}
