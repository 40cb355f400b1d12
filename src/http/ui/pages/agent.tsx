import { FileTree, Markdown, SizeBar, SizeChart } from "../components.tsx";
import { Layout, type LayoutProps } from "../layout.tsx";
import type { AgentMemory, BlockView } from "../memory-view.ts";
import { uiUrls } from "../urls.ts";

export interface AgentProps {
  session: NonNullable<LayoutProps["session"]>;
  agent: string;
  memory: AgentMemory;
  /** Set when showing a past commit: the page is then not live. */
  at?: string;
  /** Whether the server streams change events (the live update). */
  live: boolean;
}

function Block({ agent, block }: { agent: string; block: BlockView }) {
  return (
    <article class="block" id={`block-${block.label}`} aria-labelledby={`title-${block.label}`}>
      <header>
        <h3 id={`title-${block.label}`}>{block.label}</h3>
        {block.readOnly && <span class="badge read-only">read-only</span>}
        <a class="quiet" href={uiUrls.history(agent, block.path)}>
          history
        </a>
      </header>
      {block.description && <p class="description">{block.description}</p>}
      <div class="measures">
        <SizeBar characters={block.characters} limit={block.limit} />
        <SizeChart sizes={block.sizes} />
      </div>
      <Markdown text={block.value} />
    </article>
  );
}

/** The blocks and the file tree: the part of the page the live update replaces. */
export function MemorySection({ agent, memory }: { agent: string; memory: AgentMemory }) {
  return (
    <div id="memory" data-commit={memory.commit}>
      <p class="muted">
        At commit <a href={uiUrls.commit(agent, memory.commit)}>{memory.commit.slice(0, 12)}</a>
      </p>
      <section aria-labelledby="blocks-title">
        <h2 id="blocks-title">Blocks</h2>
        {memory.blocks.length === 0 ? <p class="muted">No blocks.</p> : memory.blocks.map((block) => <Block agent={agent} block={block} />)}
      </section>
      <section id="files" aria-labelledby="files-title">
        <h2 id="files-title">Skills and other files</h2>
        <FileTree files={memory.files} />
      </section>
    </div>
  );
}

export function AgentPage({ session, agent, memory, at, live }: AgentProps) {
  const isLive = live && at === undefined;
  return (
    <Layout title={agent} session={session} live={isLive ? { events: uiUrls.events(agent, memory.generation), refresh: uiUrls.memory(agent) } : undefined}>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={uiUrls.home}>Agents</a> / <span aria-current="page">{agent}</span>
      </nav>
      <div class="title-row">
        <h1>{agent}</h1>
        <a href={uiUrls.history(agent)}>History</a>
      </div>
      {at ? (
        <p class="notice">
          Memory as it was at this commit. <a href={uiUrls.agent(agent)}>See the current memory</a>
        </p>
      ) : (
        isLive && (
          <p class="live muted" id="live-status" aria-live="polite">
            Live: connecting…
          </p>
        )
      )}
      <MemorySection agent={agent} memory={memory} />
    </Layout>
  );
}
