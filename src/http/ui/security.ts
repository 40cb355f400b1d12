/**
 * What keeps the web page's sessions to their own browser: cookie attributes, the checks that a
 * state-changing request (sign-in, sign-out) comes from the page itself, and the headers every
 * page is sent with.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import { getCookie, setCookie, deleteCookie } from "hono/cookie";

export const SESSION_COOKIE = "stategit_session";
/** The sign-in form's token, before there is a session (a double-submitted cookie). */
export const SIGN_IN_COOKIE = "stategit_sign_in";

/**
 * `default-src 'self'` and nothing inline: a script or style that Markdown let through could not
 * run; no frame may embed the page (clickjacking); forms post only to this origin.
 */
export const CONTENT_SECURITY_POLICY = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "same-origin",
  "Cache-Control": "no-store",
};

/** The request came over HTTPS, to this server or to a proxy in front of it. */
export function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto")?.split(",")[0].trim() === "https";
}

/** HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it), Secure over HTTPS. */
export function setPrivateCookie(c: Context, name: string, value: string, maxAgeSeconds: number): void {
  setCookie(c, name, value, { path: "/ui/", httpOnly: true, sameSite: "Strict", secure: isHttps(c), maxAge: maxAgeSeconds });
}

export function clearPrivateCookie(c: Context, name: string): void {
  deleteCookie(c, name, { path: "/ui/", secure: isHttps(c) });
}

export function cookieOf(c: Context, name: string): string | undefined {
  return getCookie(c, name);
}

export function newFormToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * The sign-out form's token: derived from the session's secret token, so a page that cannot read
 * the HttpOnly cookie cannot compute it, and nothing more is stored.
 */
export function sessionFormToken(session: string): string {
  return createHash("sha256").update(`stategit form token\n${session}`).digest("base64url");
}

export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Whether a state-changing request may come from another site: browsers say where a request
 * comes from in `Sec-Fetch-Site` and `Origin`; either, when sent, must name this site. (The form
 * token is checked as well; this refuses cross-site requests before any form is read.)
 */
export function isCrossSite(c: Context): boolean {
  const site = c.req.header("sec-fetch-site");
  if (site !== undefined && site !== "same-origin") return true;
  const origin = c.req.header("origin");
  if (origin === undefined) return false;
  const host = c.req.header("x-forwarded-host") ?? new URL(c.req.url).host;
  try {
    return origin === "null" || new URL(origin).host !== host;
  } catch {
    return true;
  }
}
