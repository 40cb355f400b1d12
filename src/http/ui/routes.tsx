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
import { isOid } from "../../git/oid.ts";
import { isValidName } from "../../names.ts";
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
import { agentMemory, commitLog, commitView } from "./memory-view.ts";
import { AgentPage, MemorySection } from "./pages/agent.tsx";
import { CommitPage } from "./pages/commit.tsx";
import { HistoryPage } from "./pages/history.tsx";
import { NotFoundPage } from "./pages/not-found.tsx";
import { OrganisationPage } from "./pages/organisation.tsx";
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
import { safeNext, uiUrls } from "./urls.ts";

export interface UiOptions {
  accounts: Authenticator;
  sessions: {
    create(key: string): Promise<string>;
    find(token: string): Promise<KeyIdentity | undefined>;
    delete(token: string): Promise<void>;
  };
  repositories: { snapshot(org: string, agent: string): Promise<Snapshot> };
  mirror: {
    agentSummaries(org: string): Promise<AgentSummary[]>;
    search(org: string, text: string, options: { limit: number }): Promise<SearchHit[]>;
  };
  blockLayout: BlockLayout;
  /** The change events the agent page follows (the live update); without them the page is static. */
  events?: EventRoutesOptions;
}

type UiEnv = { Variables: AppEnv["Variables"] & { session: string } };

/** Seconds a session cookie lives: the session itself expires in the database (Sessions). */
const SESSION_COOKIE_SECONDS = 12 * 60 * 60;
/** The sign-in form's token lives as long as someone may take to paste a key. */
const SIGN_IN_COOKIE_SECONDS = 60 * 60;
/** A sign-in or sign-out form is a few hundred bytes. */
const MAX_FORM_BYTES = 16 * 1024;
const SEARCH_LIMIT = 20;
const MAX_QUERY_LENGTH = 500;
const HISTORY_LIMIT = 200;

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

  const notFound = (c: Context<UiEnv>, what: string) => html(c, <NotFoundPage session={sessionOf(c)} what={what} />, 404);

  app.get("/ui/", async (c) => {
    const org = c.get("org");
    const query = (c.req.query("q") ?? "").slice(0, MAX_QUERY_LENGTH);
    const [agents, hits] = await Promise.all([
      options.mirror.agentSummaries(org),
      query.trim() === "" ? undefined : options.mirror.search(org, query, { limit: SEARCH_LIMIT }),
    ]);
    return html(c, <OrganisationPage session={sessionOf(c)} agents={agents} query={query} hits={hits} />);
  });

  /** The agent's repository, or undefined when this organisation has no such agent (another org's agents are not there either). */
  const snapshotOf = async (c: Context<UiEnv>): Promise<Snapshot | undefined> => {
    const agent = c.req.param("agent") ?? "";
    if (!isValidName(agent)) return undefined;
    const snapshot = await options.repositories.snapshot(c.get("org"), agent);
    return snapshot.refs.size === 0 ? undefined : snapshot;
  };
  const noAgent = (c: Context<UiEnv>) => notFound(c, `This organisation has no agent ${JSON.stringify(c.req.param("agent"))}.`);

  app.get("/ui/agents/:agent", async (c) => {
    const snapshot = await snapshotOf(c);
    if (!snapshot) return noAgent(c);
    const at = c.req.query("at");
    if (at !== undefined && !isOid(at)) return notFound(c, "That is not a commit id.");
    const memory = agentMemory(snapshot, at ?? "HEAD", options.blockLayout);
    if (!memory) return notFound(c, at ? "This agent has no such commit." : "This agent's default branch has no commit.");
    const agent = c.req.param("agent");
    return html(c, <AgentPage session={sessionOf(c)} agent={agent} memory={memory} at={at} live={options.events !== undefined} />);
  });

  app.get("/ui/agents/:agent/memory", async (c) => {
    const snapshot = await snapshotOf(c);
    const memory = snapshot && agentMemory(snapshot, "HEAD", options.blockLayout);
    if (!memory) return noAgent(c);
    return html(c, <MemorySection agent={c.req.param("agent")} memory={memory} />);
  });

  if (options.events) {
    const events = options.events;
    // The same stream as GET /v1/agents/{agent_id}/events, authenticated by the session cookie.
    app.get("/ui/agents/:agent/events", async (c) => {
      if (!(await snapshotOf(c))) return noAgent(c);
      try {
        return await eventStreamResponse(events.streams, { org: c.get("org"), agent: c.req.param("agent") }, c.req.raw, events);
      } catch (error) {
        const known = apiErrorOf(error);
        if (!known) throw error;
        return c.text(`${known.message}\n`, known.status, known.status === 503 ? { "Retry-After": String(RETRY_AFTER_SECONDS) } : {});
      }
    });
  }

  app.get("/ui/agents/:agent/history", async (c) => {
    const snapshot = await snapshotOf(c);
    if (!snapshot) return noAgent(c);
    const path = c.req.query("path") || undefined;
    const commits = commitLog(snapshot, { path, limit: HISTORY_LIMIT });
    return html(c, <HistoryPage session={sessionOf(c)} agent={c.req.param("agent")} path={path} commits={commits} />);
  });

  app.get("/ui/agents/:agent/commits/:id", async (c) => {
    const snapshot = await snapshotOf(c);
    if (!snapshot) return noAgent(c);
    const id = c.req.param("id");
    const view = isOid(id) ? commitView(snapshot, id) : undefined;
    if (!view) return notFound(c, "This agent has no such commit.");
    return html(c, <CommitPage session={sessionOf(c)} agent={c.req.param("agent")} view={view} />);
  });

  app.all("/ui/*", (c) => notFound(c, "There is no such page."));
  return app;
}
