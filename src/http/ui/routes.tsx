/** @jsxImportSource hono/jsx */
/**
 * The web page under /ui/ (DESIGN.md, Contract, "Operations"): server-rendered pages, signed in
 * with an API key exchanged for a session cookie. Each handler reads one view and renders one
 * page component; every page is sent with a strict Content-Security-Policy.
 */
import { Hono, type Context } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import type { BlockLayout } from "../../blocks/layout.ts";
import type { AgentSummary, SearchHit } from "../../db/mirror.ts";
import type { KeyIdentity } from "../../db/accounts.ts";
import type { SharedRepositories } from "../../db/shared-repositories.ts";
import { isOid } from "../../git/oid.ts";
import { isValidName } from "../../names.ts";
import { sharedRepositoryId, sharedRepositoryName, type RepositoryName } from "../../repo/layout.ts";
import type { Snapshot } from "../../repo/snapshot.ts";
import { eventStreamResponse } from "../../events/sse.ts";
import type { EventRoutesOptions } from "../api-routes.ts";
import type { Authenticator } from "../auth.ts";
import { BadBodyError, BodyTooLargeError, readBody } from "../body.ts";
import type { AppEnv } from "../env.ts";
import { apiErrorOf, RETRY_AFTER_SECONDS } from "../errors.ts";
import icon from "./assets/icon.svg" with { type: "text" };
import liveScript from "./assets/live.client.js" with { type: "text" };
import stylesheet from "./assets/style.css" with { type: "text" };
import { repositoryMemory, commitLog, commitView } from "./memory-view.ts";
import { MemoryPage, MemorySection } from "./pages/memory.tsx";
import { CommitPage } from "./pages/commit.tsx";
import { HistoryPage } from "./pages/history.tsx";
import { NotFoundPage } from "./pages/not-found.tsx";
import { OrganisationPage, type OwnedHit } from "./pages/organisation.tsx";
import { SignInPage } from "./pages/sign-in.tsx";
import {
  clearPrivateCookie,
  cookieOf,
  isCrossSite,
  newFormToken,
  PAGE_HEADERS,
  sameToken,
  SESSION_COOKIE,
  sessionFormToken,
  setPrivateCookie,
  SIGN_IN_COOKIE,
} from "./security.ts";
import { agentOwner, safeNext, uiUrls, type MemoryOwner } from "./urls.ts";

export interface UiOptions {
  accounts: Authenticator;
  sessions: {
    create(key: string): Promise<string>;
    find(token: string): Promise<KeyIdentity | undefined>;
    delete(token: string): Promise<void>;
  };
  /** Agents' own memory by agent id, shared repositories by `repositories/{id}` (RepositoryName). */
  repositories: { snapshot(org: string, repo: RepositoryName): Promise<Snapshot> };
  mirror: {
    agentSummaries(org: string): Promise<AgentSummary[]>;
    search(org: string, text: string, options: { limit: number }): Promise<SearchHit[]>;
  };
  /** The organisation's shared repositories and their attachments. */
  shared: Pick<SharedRepositories, "get" | "list" | "attached" | "agentsAttached" | "attachments" | "names">;
  blockLayout: BlockLayout;
  /** The change events the memory pages follow (the live update); without them the page is static. */
  events?: EventRoutesOptions;
}

type UiEnv = { Variables: AppEnv["Variables"] & { session: string } };

interface OwnerRoutes {
  /** The owner's page; its other pages are below it. */
  prefix: string;
  /** The prefix's parameter naming the owner. */
  param: string;
  /** What its not-found messages call it. */
  noun: string;
  find(c: Context<UiEnv>): Promise<{ owner: MemoryOwner; snapshot: Snapshot } | undefined>;
  attached(org: string, owner: MemoryOwner): Promise<MemoryOwner[]>;
}

/** Seconds a session cookie lives: the session itself expires in the database (Sessions). */
const SESSION_COOKIE_SECONDS = 12 * 60 * 60;
/** The sign-in form's token lives as long as someone may take to paste a key. */
const SIGN_IN_COOKIE_SECONDS = 60 * 60;
/** A sign-in or sign-out form is a few hundred bytes. */
const MAX_FORM_BYTES = 16 * 1024;
const SEARCH_LIMIT = 20;
const MAX_QUERY_LENGTH = 500;
const HISTORY_LIMIT = 200;
/** The organisation page lists this many shared repositories, by name (the JSON API pages through all). */
const REPOSITORY_LIST_LIMIT = 200;

async function html(c: Context, page: JSX.Element, status: 200 | 401 | 403 | 404 = 200): Promise<Response> {
  return c.html(`<!DOCTYPE html>${await page.toString()}`, status, PAGE_HEADERS);
}

/** The posted form; undefined when the body is too large or unreadable. */
async function formOf(c: Context): Promise<URLSearchParams | undefined> {
  try {
    return new URLSearchParams(new TextDecoder().decode(await readBody(c.req.raw, MAX_FORM_BYTES)));
  } catch (error) {
    if (error instanceof BodyTooLargeError || error instanceof BadBodyError) return undefined;
    throw error;
  }
}

function forbidden(c: Context<UiEnv>, reason: string): Response {
  c.get("record").refusal = `ui: ${reason}`;
  return c.text(`forbidden: ${reason}\n`, 403, PAGE_HEADERS);
}

function sessionOf(c: Context<UiEnv>) {
  return { org: c.get("org"), formToken: sessionFormToken(c.get("session")) };
}

async function signInPage(c: Context, next: string, error?: string): Promise<Response> {
  const formToken = newFormToken();
  setPrivateCookie(c, SIGN_IN_COOKIE, formToken, SIGN_IN_COOKIE_SECONDS);
  return html(c, <SignInPage formToken={formToken} next={next} error={error} />, error ? 401 : 200);
}

/** The routes, with their full paths: mounted at the root, `/ui/` itself is a route (a sub-app's "/" would be `/ui`). */
export function uiRoutes(options: UiOptions): Hono<UiEnv> {
  const app = new Hono<UiEnv>();
  app.get("/ui", (c) => c.redirect(uiUrls.home, 301));

  const asset = (body: string, type: string) => (c: Context) =>
    c.body(body, 200, { "Content-Type": type, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff" });
  app.get("/ui/assets/style.css", asset(stylesheet, "text/css; charset=utf-8"));
  app.get("/ui/assets/live.js", asset(liveScript, "text/javascript; charset=utf-8"));
  app.get("/ui/assets/icon.svg", asset(icon, "image/svg+xml"));

  app.get("/ui/sign-in", (c) => signInPage(c, safeNext(c.req.query("next"))));
  app.post("/ui/sign-in", async (c) => {
    if (isCrossSite(c)) return forbidden(c, "sign-in from another site");
    const form = await formOf(c);
    if (!form) return c.text("bad request: not a sign-in form\n", 400, PAGE_HEADERS);
    if (!sameToken(form.get("csrf") ?? undefined, cookieOf(c, SIGN_IN_COOKIE))) return forbidden(c, "the sign-in form expired; load it again");
    const next = safeNext(form.get("next") ?? undefined);
    const key = form.get("key")?.trim() ?? "";
    const identity = key === "" ? undefined : await options.accounts.authenticate(key);
    if (identity === undefined) {
      c.get("record").refusal = "ui sign-in: wrong key";
      return signInPage(c, next, "That key is not valid: check it, or ask for a new one.");
    }
    setPrivateCookie(c, SESSION_COOKIE, await options.sessions.create(key), SESSION_COOKIE_SECONDS);
    clearPrivateCookie(c, SIGN_IN_COOKIE);
    return c.redirect(next, 303);
  });

  app.post("/ui/sign-out", async (c) => {
    if (isCrossSite(c)) return forbidden(c, "sign-out from another site");
    const session = cookieOf(c, SESSION_COOKIE);
    const form = await formOf(c);
    if (!form) return c.text("bad request: not a sign-out form\n", 400, PAGE_HEADERS);
    if (session !== undefined && !sameToken(form.get("csrf") ?? undefined, sessionFormToken(session))) return forbidden(c, "the form does not belong to this session");
    if (session !== undefined) await options.sessions.delete(session);
    clearPrivateCookie(c, SESSION_COOKIE);
    return c.redirect(uiUrls.signIn(), 303);
  });

  app.use("/ui/*", async (c, next) => {
    const token = cookieOf(c, SESSION_COOKIE);
    const identity = token === undefined ? undefined : await options.sessions.find(token);
    if (token === undefined || identity === undefined) {
      const url = new URL(c.req.url);
      return c.redirect(uiUrls.signIn(`${url.pathname}${url.search}`), 303);
    }
    c.set("org", identity.org);
    c.set("admin", identity.admin);
    c.set("session", token);
    await next();
  });

  /** The organisation's hits, each with the agent or shared repository it is in (a hit of a repository deleted since is left out). */
  const searchHits = async (org: string, query: string): Promise<OwnedHit[]> => {
    const hits = await options.mirror.search(org, query, { limit: SEARCH_LIMIT });
    const names = await options.shared.names(org, [...new Set(hits.flatMap(({ repo }) => sharedRepositoryId(repo) ?? []))]);
    return hits.flatMap((hit): OwnedHit[] => {
      const id = sharedRepositoryId(hit.repo);
      if (id === undefined) return [{ ...hit, owner: agentOwner(hit.repo) }];
      const name = names.get(id);
      return name === undefined ? [] : [{ ...hit, owner: { kind: "repository", id, name } }];
    });
  };

  const notFound = (c: Context<UiEnv>, what: string) => html(c, <NotFoundPage session={sessionOf(c)} what={what} />, 404);

  app.get("/ui/", async (c) => {
    const org = c.get("org");
    const query = (c.req.query("q") ?? "").slice(0, MAX_QUERY_LENGTH);
    const [agents, repositories, attachments, hits] = await Promise.all([
      options.mirror.agentSummaries(org),
      options.shared.list(org, { limit: REPOSITORY_LIST_LIMIT, offset: 0 }),
      options.shared.attachments(org),
      query.trim() === "" ? undefined : searchHits(org, query),
    ]);
    return html(c, <OrganisationPage session={sessionOf(c)} agents={agents} repositories={repositories} attachments={attachments} query={query} hits={hits} />);
  });

  /**
   * The pages of an owner's memory, the same for an agent and a shared repository: `find` reads
   * the owner the path names with its repository's snapshot (undefined when this organisation has
   * none: another organisation's are not there either), `attached` the other side of its attachments.
   */
  const ownerRoutes: OwnerRoutes[] = [
    {
      prefix: "/ui/agents/:agent",
      param: "agent",
      noun: "agent",
      find: async (c) => {
        const agent = c.req.param("agent") ?? "";
        if (!isValidName(agent)) return undefined;
        const snapshot = await options.repositories.snapshot(c.get("org"), agent);
        return snapshot.refs.size === 0 ? undefined : { owner: agentOwner(agent), snapshot };
      },
      attached: async (org, owner) => (await options.shared.attached(org, owner.id)).map(({ id, name }) => ({ kind: "repository", id, name })),
    },
    {
      prefix: "/ui/repositories/:id",
      param: "id",
      noun: "repository",
      find: async (c) => {
        const id = c.req.param("id") ?? "";
        const repository = isValidName(id) ? await options.shared.get(c.get("org"), id) : undefined;
        if (!repository) return undefined;
        const snapshot = await options.repositories.snapshot(c.get("org"), sharedRepositoryName(id));
        return { owner: { kind: "repository", id, name: repository.name }, snapshot };
      },
      attached: async (org, owner) => (await options.shared.agentsAttached(org, owner.id)).map(agentOwner),
    },
  ];

  for (const { prefix, param, noun, find, attached } of ownerRoutes) {
    const missing = (c: Context<UiEnv>) => notFound(c, `This organisation has no ${noun} ${JSON.stringify(c.req.param(param))}.`);

    app.get(prefix, async (c) => {
      const found = await find(c);
      if (!found) return missing(c);
      const at = c.req.query("at");
      if (at !== undefined && !isOid(at)) return notFound(c, "That is not a commit id.");
      const memory = repositoryMemory(found.snapshot, at ?? "HEAD", options.blockLayout);
      if (!memory) return notFound(c, at ? `This ${noun} has no such commit.` : `This ${noun}'s default branch has no commit yet.`);
      const others = await attached(c.get("org"), found.owner);
      return html(c, <MemoryPage session={sessionOf(c)} owner={found.owner} memory={memory} attached={others} at={at} live={options.events !== undefined} />);
    });

    app.get(`${prefix}/memory`, async (c) => {
      const found = await find(c);
      const memory = found && repositoryMemory(found.snapshot, "HEAD", options.blockLayout);
      if (!memory) return missing(c);
      return html(c, <MemorySection owner={found.owner} memory={memory} />);
    });

    if (options.events) {
      const events = options.events;
      // The same stream as GET /v1/agents/{agent_id}/events or /v1/repositories/{id}/events, authenticated by the session cookie.
      app.get(`${prefix}/events`, async (c) => {
        const found = await find(c);
        if (!found) return missing(c);
        try {
          return await eventStreamResponse(events.streams, { org: c.get("org"), agent: found.snapshot.repo }, c.req.raw, events);
        } catch (error) {
          const known = apiErrorOf(error);
          if (!known) throw error;
          return c.text(`${known.message}\n`, known.status, known.status === 503 ? { "Retry-After": String(RETRY_AFTER_SECONDS) } : {});
        }
      });
    }

    app.get(`${prefix}/history`, async (c) => {
      const found = await find(c);
      if (!found) return missing(c);
      const path = c.req.query("path") || undefined;
      const commits = commitLog(found.snapshot, { path, limit: HISTORY_LIMIT });
      return html(c, <HistoryPage session={sessionOf(c)} owner={found.owner} path={path} commits={commits} />);
    });

    app.get(`${prefix}/commits/:commit`, async (c) => {
      const found = await find(c);
      if (!found) return missing(c);
      const id = c.req.param("commit");
      const view = isOid(id) ? commitView(found.snapshot, id) : undefined;
      if (!view) return notFound(c, `This ${noun} has no such commit.`);
      return html(c, <CommitPage session={sessionOf(c)} owner={found.owner} view={view} />);
    });
  }

  app.all("/ui/*", (c) => notFound(c, "There is no such page."));
  return app;
}
