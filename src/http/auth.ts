import type { Context, MiddlewareHandler } from "hono";
import type { KeyIdentity } from "../db/accounts.ts";
import { isValidName } from "../names.ts";
import { apiKeyFromAuthorization } from "./credentials.ts";
import type { AppEnv } from "./env.ts";

export interface Authenticator {
  /** Who a valid, unrevoked key acts for; undefined otherwise. */
  authenticate(key: string): Promise<KeyIdentity | undefined>;
}

export interface AuthOptions {
  accounts: Authenticator;
  /** Accept `X-Organization-Id` on requests without credentials (behind a trusted proxy only). */
  trustOrgHeader: boolean;
}

/**
 * Decides the request's organisation: from its API key (Basic, any user name, or Bearer), or,
 * when trusted, from the proxy's X-Organization-Id. Anything else is 401 with a Basic
 * challenge, which is what makes git ask its credential helper.
 */
export function authenticate(options: AuthOptions, unauthenticated: (c: Context<AppEnv>) => Response = textChallenge): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const authorization = c.req.header("authorization");
    let identity: KeyIdentity | undefined;
    if (authorization) {
      const key = apiKeyFromAuthorization(authorization);
      identity = key === undefined ? undefined : await options.accounts.authenticate(key);
    } else if (options.trustOrgHeader) {
      const header = c.req.header("x-organization-id");
      identity = header !== undefined && isValidName(header) ? { org: header, admin: false } : undefined;
    }
    if (identity === undefined) {
      c.get("record").refusal = "authentication required";
      return unauthenticated(c);
    }
    c.set("org", identity.org);
    c.set("admin", identity.admin);
    await next();
  };
}

const CHALLENGE = { "WWW-Authenticate": 'Basic realm="stategit"' };

function textChallenge(c: Context<AppEnv>): Response {
  return c.text("authentication required\n", 401, CHALLENGE);
}

/** The JSON API's 401: the same challenge, with an error body. */
export function jsonChallenge(c: Context<AppEnv>): Response {
  return c.json({ error: { code: "auth.required", message: "authentication required: an API key as Basic or Bearer credentials" } }, 401, CHALLENGE);
}
