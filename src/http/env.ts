/** Hono context variables set by the authentication middleware. */
export interface AppEnv {
  Variables: {
    /** The organisation the request acts for: every repository it names is `{org}/{agent}`. */
    org: string;
    /** Whether the key may change read-only memory and the memory configuration (`key create --admin`). */
    admin: boolean;
  };
}
