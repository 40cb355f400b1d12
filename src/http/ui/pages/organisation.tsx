/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import type { AgentSummary, SearchHit } from "../../../db/mirror.ts";
import type { RepositoryPage } from "../../../db/shared-repositories.ts";
import { formatCharacters, Time } from "../components.tsx";
import { Layout, type LayoutProps } from "../layout.tsx";
import { agentOwner, ownerTitle, uiUrls, type MemoryOwner } from "../urls.ts";

/** A search hit with the agent or shared repository it was found in. */
export type OwnedHit = SearchHit & { owner: MemoryOwner };

export interface OrganisationProps {
  session: NonNullable<LayoutProps["session"]>;
  agents: readonly AgentSummary[];
  /** The first of the organisation's shared repositories by name, and the agents each is attached to. */
  repositories: RepositoryPage;
  attachments: ReadonlyMap<string, readonly string[]>;
  /** The search box's text, and its results when there is one. */
  query: string;
  hits?: readonly OwnedHit[];
}

/** A snippet with its matched ranges as <mark>: the text is escaped by JSX, only the marks are markup. */
function Snippet({ hit }: { hit: SearchHit }) {
  const parts = [];
  let at = 0;
  for (const [start, end] of hit.highlights) {
    if (start > at) parts.push(hit.snippet.slice(at, start));
    parts.push(<mark>{hit.snippet.slice(start, end)}</mark>);
    at = end;
  }
  parts.push(hit.snippet.slice(at));
  return <p class="snippet">{parts}</p>;
}

function SearchResults({ query, hits }: { query: string; hits: readonly OwnedHit[] }) {
  if (hits.length === 0) return <p class="muted">Nothing in memory matches “{query}”.</p>;
  return (
    <>
      <h2>Found in memory</h2>
      <ol class="hits">
        {hits.map((hit) => (
          <li>
            <a href={`${uiUrls.owner(hit.owner)}#${hit.label ? `block-${hit.label}` : "files"}`}>
              <strong>{ownerTitle(hit.owner)}</strong> · {hit.label ?? hit.path}
            </a>
            {hit.description && <span class="muted"> — {hit.description}</span>}
            <Snippet hit={hit} />
          </li>
        ))}
      </ol>
    </>
  );
}

/** A table of the organisation's agents or repositories: a header of `columns`, then the rows. */
function Listing({ kind, columns, children }: { kind: string; columns: readonly { title: string; number?: boolean }[]; children: Child }) {
  return (
    <div class="table-scroll">
      <table class={`listing ${kind}`}>
        <thead>
          <tr>
            {columns.map(({ title, number }) => (
              <th scope="col" class={number ? "number" : undefined}>
                {title}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** The organisation's shared repositories, each with the agents it is attached to. */
function Repositories({ repositories, attachments }: Pick<OrganisationProps, "repositories" | "attachments">) {
  return (
    <section id="repositories" aria-labelledby="repositories-title">
      <h2 id="repositories-title">Shared repositories</h2>
      {repositories.repositories.length === 0 ? (
        <p class="muted">No shared repository: create one with POST /v1/repositories or stategit repo create.</p>
      ) : (
        <Listing kind="repositories" columns={[{ title: "Repository" }, { title: "Attached to" }, { title: "Created" }]}>
          {repositories.repositories.map(({ id, name, createdAt }) => (
            <tr>
              <th scope="row">
                <a href={uiUrls.owner({ kind: "repository", id, name })}>{name}</a>
              </th>
              <td>
                {(attachments.get(id) ?? []).map((agent, index) => (
                  <>
                    {index > 0 && ", "}
                    <a href={uiUrls.owner(agentOwner(agent))}>{agent}</a>
                  </>
                ))}
              </td>
              <td>
                <Time value={createdAt} />
              </td>
            </tr>
          ))}
        </Listing>
      )}
      {repositories.hasNextPage && <p class="muted">Only the first {repositories.repositories.length} by name are listed here.</p>}
    </section>
  );
}

export function OrganisationPage({ session, agents, repositories, attachments, query, hits }: OrganisationProps) {
  return (
    <Layout title={session.org} session={session}>
      <h1>Agents of {session.org}</h1>
      <form method="get" action="/ui/" class="search" role="search">
        <label for="q">Search memory</label>
        <input id="q" name="q" type="search" value={query} placeholder="words in any block or file" />
        <button type="submit">Search</button>
      </form>
      {hits && <SearchResults query={query} hits={hits} />}
      {agents.length === 0 ? (
        <p class="muted">No agent has memory yet: push to /AGENT_ID/state.git or write a block through the API.</p>
      ) : (
        <Listing kind="agents" columns={[{ title: "Agent" }, { title: "Last change" }, { title: "Blocks", number: true }, { title: "Size", number: true }]}>
          {agents.map((agent) => (
            <tr>
              <th scope="row">
                <a href={uiUrls.owner(agentOwner(agent.agent))}>{agent.agent}</a>
              </th>
              <td>{agent.lastChange ? <Time value={agent.lastChange} /> : "—"}</td>
              <td class="number">{agent.blocks}</td>
              <td class="number">{formatCharacters(agent.characters)}</td>
            </tr>
          ))}
        </Listing>
      )}
      <Repositories repositories={repositories} attachments={attachments} />
    </Layout>
  );
}
