import type { RequestRecord } from "./request-log.ts";

/** Hono context variables set by the middleware. */
export interface AppEnv {
  Variables: {
    /** The organisation the request acts for: every repository it names is `{org}/{agent}`. */
    org: string;
    /** What the handlers tell the request log about their request. */
    record: RequestRecord;
  };
}
