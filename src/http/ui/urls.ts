/**
 * Whose memory a page shows: an agent's own (named by its id), or a shared repository of the
 * organisation (addressed by its id, shown by its name). The pages of both are the same pages.
 */
export type MemoryOwner = { kind: "agent"; id: string } | { kind: "repository"; id: string; name: string };

export const agentOwner = (id: string): MemoryOwner => ({ kind: "agent", id });

/** What a page calls the owner: the agent's id, or the repository's name. */
export function ownerTitle(owner: MemoryOwner): string {
  return owner.kind === "agent" ? owner.id : owner.name;
}

const ownerPath = (owner: MemoryOwner) => `/ui/${owner.kind === "agent" ? "agents" : "repositories"}/${encodeURIComponent(owner.id)}`;

/** The web page's addresses, in one place: pages link to each other only through these. */
export const uiUrls = {
  home: "/ui/",
  /** The organisation page's list of shared repositories. */
  repositories: "/ui/#repositories",
  signIn: (next?: string) => (next ? `/ui/sign-in?next=${encodeURIComponent(next)}` : "/ui/sign-in"),
  search: (query: string) => `/ui/?q=${encodeURIComponent(query)}`,
  owner: (owner: MemoryOwner, at?: string) => `${ownerPath(owner)}${at ? `?at=${at}` : ""}`,
  memory: (owner: MemoryOwner) => `${ownerPath(owner)}/memory`,
  /** The owner's change events after `generation` (the SSE cursor), so none is missed between the page and the stream. */
  events: (owner: MemoryOwner, generation: number) => `${ownerPath(owner)}/events?last_event_id=${generation}`,
  history: (owner: MemoryOwner, path?: string) => `${ownerPath(owner)}/history${path ? `?path=${encodeURIComponent(path)}` : ""}`,
  commit: (owner: MemoryOwner, id: string) => `${ownerPath(owner)}/commits/${id}`,
};

/** Where sign-in may send the browser: a page of this site's /ui/, never another origin (`//host`, `/\host`). */
export function safeNext(next: string | undefined): string {
  return next !== undefined && /^\/ui\/[^\\]*$/.test(next) && !next.startsWith("//") ? next : uiUrls.home;
}
