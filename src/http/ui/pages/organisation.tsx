import type { AgentSummary, SearchHit } from "../../../db/mirror.ts";
import { formatCharacters, Time } from "../components.tsx";
import { Layout, type LayoutProps } from "../layout.tsx";
import { uiUrls } from "../urls.ts";

export interface OrganisationProps {
  session: NonNullable<LayoutProps["session"]>;
  agents: readonly AgentSummary[];
  /** The search box's text, and its results when there is one. */
  query: string;
  hits?: readonly SearchHit[];
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

function SearchResults({ query, hits }: { query: string; hits: readonly SearchHit[] }) {
  if (hits.length === 0) return <p class="muted">Nothing in memory matches “{query}”.</p>;
  return (
    <>
      <h2>Found in memory</h2>
      <ol class="hits">
        {hits.map((hit) => (
          <li>
            <a href={`${uiUrls.agent(hit.repo)}#${hit.label ? `block-${hit.label}` : "files"}`}>
              <strong>{hit.repo}</strong> · {hit.label ?? hit.path}
            </a>
            {hit.description && <span class="muted"> — {hit.description}</span>}
            <Snippet hit={hit} />
          </li>
        ))}
      </ol>
    </>
  );
}

export function OrganisationPage({ session, agents, query, hits }: OrganisationProps) {
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
        <div class="table-scroll">
          <table class="agents">
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">Last change</th>
                <th scope="col" class="number">Blocks</th>
                <th scope="col" class="number">Size</th>
              </tr>
            </thead>
            <tbody>
              {agents.map((agent) => (
                <tr>
                  <th scope="row">
                    <a href={uiUrls.agent(agent.agent)}>{agent.agent}</a>
                  </th>
                  <td>{agent.lastChange ? <Time value={agent.lastChange} /> : "—"}</td>
                  <td class="number">{agent.blocks}</td>
                  <td class="number">{formatCharacters(agent.characters)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}
