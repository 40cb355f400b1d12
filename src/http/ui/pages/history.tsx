/** @jsxImportSource hono/jsx */
import { OwnerCrumbs, Time } from "../components.tsx";
import { Layout, type LayoutProps } from "../layout.tsx";
import type { HistoryEntry } from "../memory-view.ts";
import { ownerTitle, uiUrls, type MemoryOwner } from "../urls.ts";

export interface HistoryProps {
  session: NonNullable<LayoutProps["session"]>;
  owner: MemoryOwner;
  path?: string;
  commits: readonly HistoryEntry[];
}

export function firstLine(message: string): string {
  return message.split("\n", 1)[0] || "(no message)";
}

export function SourceBadge({ source }: { source: HistoryEntry["source"] }) {
  return <span class={`badge source-${source}`}>{source === "api" ? "API" : "git"}</span>;
}

export function HistoryPage({ session, owner, path, commits }: HistoryProps) {
  return (
    <Layout title={`History of ${path ?? ownerTitle(owner)}`} session={session}>
      <OwnerCrumbs owner={owner} current="History" />
      <h1>History{path && <> of <code>{path}</code></>}</h1>
      {path && (
        <p>
          <a href={uiUrls.history(owner)}>Every commit</a>
        </p>
      )}
      {commits.length === 0 ? (
        <p class="muted">No commits.</p>
      ) : (
        <ol class="commits">
          {commits.map((commit) => (
            <li>
              <a href={uiUrls.commit(owner, commit.id)}>{firstLine(commit.message)}</a>
              <div class="muted">
                <SourceBadge source={commit.source} /> {commit.author.name} · <Time value={commit.author.time} /> · <code>{commit.id.slice(0, 12)}</code>
              </div>
            </li>
          ))}
        </ol>
      )}
    </Layout>
  );
}
