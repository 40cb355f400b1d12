/** @jsxImportSource hono/jsx */
import { FileTree, Markdown, OwnerCrumbs, SizeBar, SizeChart } from "../components.tsx";
import { Layout, type LayoutProps } from "../layout.tsx";
import type { RepositoryMemory, BlockView } from "../memory-view.ts";
import { ownerTitle, uiUrls, type MemoryOwner } from "../urls.ts";

export interface MemoryProps {
  session: NonNullable<LayoutProps["session"]>;
  owner: MemoryOwner;
  memory: RepositoryMemory;
  /**
   * The other side of the owner's attachments: the shared repositories attached to an agent, or
   * the agents a shared repository is attached to.
   */
  attached: readonly MemoryOwner[];
  /** Set when showing a past commit: the page is then not live. */
  at?: string;
  /** Whether the server streams change events (the live update). */
  live: boolean;
}

function Block({ owner, block }: { owner: MemoryOwner; block: BlockView }) {
  return (
    <article class="block" id={`block-${block.label}`} aria-labelledby={`title-${block.label}`}>
      <header>
        <h3 id={`title-${block.label}`}>{block.label}</h3>
        {block.readOnly && <span class="badge read-only">read-only</span>}
        <a class="quiet" href={uiUrls.history(owner, block.path)}>
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
export function MemorySection({ owner, memory }: { owner: MemoryOwner; memory: RepositoryMemory }) {
  return (
    <div id="memory" data-commit={memory.commit}>
      {memory.commit ? (
        <p class="muted">
          At commit <a href={uiUrls.commit(owner, memory.commit)}>{memory.commit.slice(0, 12)}</a>
        </p>
      ) : (
        <p class="muted">Nothing has been written yet: an attached agent clones and pushes it at its own git URL.</p>
      )}
      <section aria-labelledby="blocks-title">
        <h2 id="blocks-title">Blocks</h2>
        {memory.blocks.length === 0 ? <p class="muted">No blocks.</p> : memory.blocks.map((block) => <Block owner={owner} block={block} />)}
      </section>
      <section id="files" aria-labelledby="files-title">
        <h2 id="files-title">Skills and other files</h2>
        <FileTree files={memory.files} />
      </section>
    </div>
  );
}

/** An agent's shared repositories, each with the path its git client uses; or the agents a repository is attached to. */
function Attachments({ owner, attached }: { owner: MemoryOwner; attached: readonly MemoryOwner[] }) {
  const ofAgent = owner.kind === "agent";
  return (
    <section id="attached" aria-labelledby="attached-title">
      <h2 id="attached-title">{ofAgent ? "Shared repositories" : "Attached to agents"}</h2>
      {attached.length === 0 ? (
        <p class="muted">{ofAgent ? "No shared repository is attached to this agent." : "No agent has this repository attached."}</p>
      ) : (
        <ul class="attached">
          {attached.map((other) => (
            <li>
              <a href={uiUrls.owner(other)}>{ownerTitle(other)}</a>
              {ofAgent && (
                <>
                  {" "}
                  <code class="muted">{`/v1/git/${owner.id}/repositories/${ownerTitle(other)}.git`}</code>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The memory of an agent or of a shared repository: blocks, files, and what it is attached to. */
export function MemoryPage({ session, owner, memory, attached, at, live }: MemoryProps) {
  const isLive = live && at === undefined;
  const title = ownerTitle(owner);
  return (
    <Layout title={title} session={session} live={isLive ? { events: uiUrls.events(owner, memory.generation), refresh: uiUrls.memory(owner) } : undefined}>
      <OwnerCrumbs owner={owner} />
      <div class="title-row">
        <h1>{title}</h1>
        <a href={uiUrls.history(owner)}>History</a>
      </div>
      {at ? (
        <p class="notice">
          Memory as it was at this commit. <a href={uiUrls.owner(owner)}>See the current memory</a>
        </p>
      ) : (
        isLive && (
          <p class="live muted" id="live-status" aria-live="polite">
            Live: connecting…
          </p>
        )
      )}
      <MemorySection owner={owner} memory={memory} />
      <Attachments owner={owner} attached={attached} />
    </Layout>
  );
}
