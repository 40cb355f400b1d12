/**
 * The JSON API's routes (DESIGN.md, Contract, "Blocks" and "Shared memory"): each handler parses
 * the request, calls one MemoryApi method and answers JSON; every error goes through apiErrorOf.
 */
import { Hono, type Context } from "hono";
import type { BlockWrite, Person } from "../blocks/api-write.ts";
import type { BlockUpdate } from "../blocks/memory-file.ts";
import { eventStreamResponse, type EventStreamOptions } from "../events/sse.ts";
import type { EventStreams } from "../events/streams.ts";
import { isOid } from "../git/oid.ts";
import { isValidName } from "../names.ts";
import type { PathContent } from "../repo/browse.ts";
import type { RepositoryName } from "../repo/layout.ts";
import { readBody } from "./body.ts";
import type { AppEnv } from "./env.ts";
import type { Logger } from "./logger.ts";
import { ApiError, apiErrorOf, RETRY_AFTER_SECONDS } from "./errors.ts";
import type { MemoryApi } from "./memory-api.ts";

/** A block's JSON body: its value is at most a few hundred kilobytes under any layout's limits. */
export const MAX_BLOCK_BODY_BYTES = 1024 * 1024;
const DEFAULT_HISTORY_LIMIT = 50;
const MAX_HISTORY_LIMIT = 1000;
const DEFAULT_SEARCH_LIMIT = 20;
const MAX_SEARCH_LIMIT = 100;
/** Letta Code pages repositories 50 at a time. */
const DEFAULT_REPOSITORY_LIMIT = 50;
const MAX_REPOSITORY_LIMIT = 1000;

const invalid = (message: string) => new ApiError(400, "body.invalid", message);
const badQuery = (message: string) => new ApiError(400, "query.invalid", message);

function agentOf(c: Context<AppEnv>): string {
  const agent = c.req.param("agent") ?? "";
  if (!isValidName(agent)) throw new ApiError(404, "agent.unknown", `invalid agent id ${JSON.stringify(agent)}`);
  return agent;
}

/** A shared repository's id; one that cannot be an id is as unknown as any other. */
function checkRepositoryId(id: string): string {
  if (!isValidName(id)) throw new ApiError(404, "repository.unknown", `repository ${JSON.stringify(id)} does not exist`);
  return id;
}

const repositoryIdOf = (c: Context<AppEnv>) => checkRepositoryId(c.req.param("id") ?? "");

function offsetOf(c: Context<AppEnv>): number {
  const text = c.req.query("offset");
  if (text === undefined) return 0;
  if (!/^\d{1,9}$/.test(text)) throw badQuery("offset must be a whole number");
  return Number(text);
}

function limitOf(c: Context<AppEnv>, fallback: number, most: number): number {
  const text = c.req.query("limit");
  if (text === undefined) return fallback;
  const limit = Number(text);
  if (!/^\d+$/.test(text) || limit < 1 || limit > most) throw badQuery(`limit must be a whole number from 1 to ${most}`);
  return limit;
}

type Fields = Record<string, unknown>;

function optionalOf<T>(body: Fields, key: string, type: "string" | "boolean" | "number", check: (value: T) => boolean = () => true): T | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== type || !check(value as T)) throw invalid(`${key} must be ${type === "number" ? "a positive whole number" : `a ${type}`}`);
  return value as T;
}

async function jsonBody(c: Context<AppEnv>, required: boolean): Promise<Fields> {
  const bytes = await readBody(c.req.raw, MAX_BLOCK_BODY_BYTES);
  if (bytes.length === 0 && !required) return {};
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw invalid("the body is not UTF-8 JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw invalid("the body must be a JSON object");
  return body as Fields;
}

/** The commit's author from the body, or the organisation's API identity. */
function authorOf(body: Fields, org: string): Person {
  const author = body.author;
  if (author === undefined || author === null) return { name: `${org} API`, email: `api@${org}.stategit` };
  const { name, email } = (typeof author === "object" ? author : {}) as Fields;
  if (typeof name !== "string" || typeof email !== "string") throw invalid("author must be {name, email}, both strings");
  return { name, email };
}

function updateOf(body: Fields): BlockUpdate {
  if (typeof body.value !== "string") throw invalid("value must be a string");
  return {
    value: body.value,
    name: optionalOf<string>(body, "name", "string"),
    description: optionalOf<string>(body, "description", "string"),
    readOnly: optionalOf<boolean>(body, "read_only", "boolean"),
    limit: optionalOf<number>(body, "limit", "number", (value) => Number.isSafeInteger(value) && value > 0),
  };
}

/** `If-Match: "COMMIT"` (quotes optional). */
function unchangedSinceOf(c: Context<AppEnv>): string | undefined {
  const header = c.req.header("if-match");
  if (header === undefined) return undefined;
  const commit = header.trim().replace(/^"(.*)"$/, "$1");
  if (!isOid(commit)) throw new ApiError(400, "precondition.invalid", 'If-Match must be "COMMIT", a full commit id');
  return commit;
}

async function blockWrite(c: Context<AppEnv>, update: boolean): Promise<BlockWrite> {
  const body = await jsonBody(c, update);
  return {
    label: c.req.param("label") ?? "",
    update: update ? updateOf(body) : undefined,
    author: authorOf(body, c.get("org")),
    message: optionalOf<string>(body, "message", "string"),
    unchangedSince: unchangedSinceOf(c),
    isAdmin: c.get("admin"),
  };
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const mode = (value: number) => value.toString(8);

/** A file's content as text when it is UTF-8, else base64. */
function contentJson(content: PathContent) {
  if (content.kind === "directory") return { type: "directory", files: content.files.map(({ path, mode: value, oid }) => ({ path, mode: mode(value), blob: oid })) };
  const { entry, data } = content;
  let text: { encoding: "utf-8" | "base64"; content: string };
  try {
    text = { encoding: "utf-8", content: decoder.decode(data) };
  } catch {
    text = { encoding: "base64", content: Buffer.from(data).toString("base64") };
  }
  return { type: "file", mode: mode(entry.mode), blob: entry.oid, size: data.length, ...text };
}

/** The change events' streams, and how often they send heartbeats. */
export interface EventRoutesOptions extends EventStreamOptions {
  streams: EventStreams;
}

/** The API under `/v1`, its own error handler answering JSON; the event streams when `events` is given. */
export function apiRoutes(api: MemoryApi, logger: Logger, events?: EventRoutesOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError((error, c) => {
    const known = apiErrorOf(error);
    if (!known) logger.log("error", "unexpected error", { request_id: c.get("record")?.id, method: c.req.method, path: c.req.path, error: error.stack ?? error.message });
    const answer = known ?? new ApiError(500, "internal", "internal server error");
    const headers: Record<string, string> = answer.status === 503 ? { "Retry-After": String(RETRY_AFTER_SECONDS) } : {};
    return c.json({ error: { code: answer.code, message: answer.message, ...answer.details } }, answer.status, headers);
  });

  // Blocks, files and change events of a repository: an agent's own memory, or a shared repository by id.
  const repositoryRoutes: [string, (c: Context<AppEnv>) => RepositoryName | Promise<RepositoryName>][] = [
    ["/agents/:agent", agentOf],
    ["/repositories/:id", (c) => api.sharedRepository(c.get("org"), repositoryIdOf(c))],
  ];
  for (const [prefix, repoOf] of repositoryRoutes) {
    app.get(`${prefix}/blocks`, async (c) => c.json(await api.blocks(c.get("org"), await repoOf(c))));
    app.get(`${prefix}/blocks/:label{.+}`, async (c) => {
      const block = await api.block(c.get("org"), await repoOf(c), c.req.param("label"));
      return c.json(block, 200, { ETag: `"${block.commit}"` });
    });
    for (const [method, update] of [["put", true], ["delete", false]] as const) {
      app[method](`${prefix}/blocks/:label{.+}`, async (c) => {
        const repo = await repoOf(c);
        const answer = await api.writeBlock(c.get("org"), repo, await blockWrite(c, update));
        return c.json(answer, 200, { ETag: `"${answer.commit}"` });
      });
    }

    const files = async (c: Context<AppEnv>, path: string) => {
      const answer = await api.files(c.get("org"), await repoOf(c), c.req.query("ref") ?? "HEAD", path);
      return c.json({ ref: answer.ref, commit: answer.commit, path: answer.path, ...contentJson(answer.content) });
    };
    app.get(`${prefix}/files`, (c) => files(c, ""));
    app.get(`${prefix}/files/:path{.+}`, (c) => files(c, c.req.param("path").replace(/\/+$/, "")));
    if (events) app.get(`${prefix}/events`, async (c) => eventStreamResponse(events.streams, { org: c.get("org"), agent: await repoOf(c) }, c.req.raw, events));
  }

  app.get("/agents/:agent/history", async (c) => {
    const path = c.req.query("path") || undefined;
    const commits = await api.history(c.get("org"), agentOf(c), c.req.query("ref") ?? "HEAD", { path, limit: limitOf(c, DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT) });
    return c.json({ commits });
  });

  app.get("/search", async (c) => {
    const text = c.req.query("q") ?? "";
    if (text.trim() === "") throw badQuery("q must name the text to search for");
    const agent = c.req.query("agent");
    if (agent !== undefined && !isValidName(agent)) throw badQuery(`invalid agent id ${JSON.stringify(agent)}`);
    return c.json({ results: await api.search(c.get("org"), text, { agent, limit: limitOf(c, DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT) }) });
  });

  app.post("/repositories", async (c) => {
    const { name } = await jsonBody(c, true);
    if (typeof name !== "string") throw invalid("name must be a string");
    return c.json(await api.createRepository(c.get("org"), name), 201);
  });
  app.get("/repositories", async (c) =>
    c.json(await api.listRepositories(c.get("org"), { limit: limitOf(c, DEFAULT_REPOSITORY_LIMIT, MAX_REPOSITORY_LIMIT), offset: offsetOf(c) })),
  );
  app.get("/repositories/:id", async (c) => c.json(await api.repository(c.get("org"), repositoryIdOf(c))));
  app.delete("/repositories/:id", async (c) => {
    await api.deleteRepository(c.get("org"), repositoryIdOf(c));
    return c.body(null, 204);
  });
  app.get("/repositories/:id/versions", async (c) => {
    const path = c.req.query("path") || undefined;
    const commits = await api.versions(c.get("org"), repositoryIdOf(c), { path, limit: limitOf(c, DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT) });
    return c.json({ commits });
  });

  app.get("/agents/:agent/repositories", async (c) => c.json({ repositories: await api.agentRepositories(c.get("org"), agentOf(c)) }));
  app.post("/agents/:agent/repositories", async (c) => {
    const agent = agentOf(c);
    const { repository_id: id } = await jsonBody(c, true);
    if (typeof id !== "string") throw invalid("repository_id must be a string");
    return c.json(await api.attach(c.get("org"), agent, checkRepositoryId(id)));
  });
  app.delete("/agents/:agent/repositories/:id", async (c) => {
    await api.detach(c.get("org"), agentOf(c), repositoryIdOf(c));
    return c.body(null, 204);
  });

  if (events) app.get("/events", (c) => eventStreamResponse(events.streams, { org: c.get("org") }, c.req.raw, events));
  return app;
}
