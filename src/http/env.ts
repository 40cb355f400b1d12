/** Hono context variables set by the authentication middleware. */
export interface AppEnv {
  Variables: {
    /** The organisation the request acts for: every repository it names is `{org}/{agent}`. */
    org: string;
  };
}
