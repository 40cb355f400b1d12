import type { RequestRecord } from "./request-log.ts";

/** Hono context variables set by the middleware. */
export interface AppEnv {
  Variables: {
    /** The organisation the request acts for: every repository it names is `{org}/{agent}`. */
    org: string;
    /** Whether the key may change read-only memory and the memory configuration (`key create --admin`). */
    admin: boolean;
    /** What the handlers tell the request log about their request. */
    record: RequestRecord;
  };
}
