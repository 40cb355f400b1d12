/** The web page's addresses, in one place: pages link to each other only through these. */
export const uiUrls = {
  home: "/ui/",
  signIn: (next?: string) => (next ? `/ui/sign-in?next=${encodeURIComponent(next)}` : "/ui/sign-in"),
  search: (query: string) => `/ui/?q=${encodeURIComponent(query)}`,
  agent: (agent: string, at?: string) => `/ui/agents/${encodeURIComponent(agent)}${at ? `?at=${at}` : ""}`,
  memory: (agent: string) => `/ui/agents/${encodeURIComponent(agent)}/memory`,
  /** The agent's change events after `generation` (the SSE cursor), so none is missed between the page and the stream. */
  events: (agent: string, generation: number) => `/ui/agents/${encodeURIComponent(agent)}/events?last_event_id=${generation}`,
  history: (agent: string, path?: string) => `/ui/agents/${encodeURIComponent(agent)}/history${path ? `?path=${encodeURIComponent(path)}` : ""}`,
  commit: (agent: string, id: string) => `/ui/agents/${encodeURIComponent(agent)}/commits/${id}`,
};

/** Where sign-in may send the browser: a page of this site's /ui/, never another origin (`//host`, `/\host`). */
export function safeNext(next: string | undefined): string {
  return next !== undefined && /^\/ui\/[^\\]*$/.test(next) && !next.startsWith("//") ? next : uiUrls.home;
}
