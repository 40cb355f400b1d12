/** @jsxImportSource hono/jsx */
/** Pieces the pages share: sizes as inline SVG (attributes, never style=, which the CSP forbids), times, Markdown, a tree of files, breadcrumbs. */
import type { MemoryFile } from "../../blocks/memory-file.ts";
import type { Child } from "hono/jsx";
import { renderMarkdown } from "./markdown.ts";
import { ownerTitle, uiUrls, type MemoryOwner } from "./urls.ts";

const number = new Intl.NumberFormat("en");

export function formatCharacters(count: number): string {
  return `${number.format(count)} ${count === 1 ? "character" : "characters"}`;
}

/** A time as text in UTC, with the machine-readable value for assistive technology. */
export function Time({ value }: { value: Date | string }) {
  const date = typeof value === "string" ? new Date(value) : value;
  return <time datetime={date.toISOString()}>{date.toISOString().replace("T", " ").slice(0, 16)} UTC</time>;
}

export function Markdown({ text }: { text: string }) {
  return <div class="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(text) }} />;
}

/** A bar of `characters` against `limit`, red once over it; without a limit, only the count. */
export function SizeBar({ characters, limit }: { characters: number; limit?: number }) {
  if (limit === undefined) return <p class="size">{formatCharacters(characters)}</p>;
  const share = Math.min(1, characters / limit);
  return (
    <div class="size">
      <svg class="bar" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true">
        <rect class="track" x="0" y="0" width="100" height="6" rx="3" />
        <rect class={characters > limit ? "fill over" : "fill"} x="0" y="0" width={(share * 100).toFixed(2)} height="6" rx="3" />
      </svg>
      <span>
        {formatCharacters(characters)} of {number.format(limit)}
      </span>
    </div>
  );
}

const CHART_WIDTH = 160;
const CHART_HEIGHT = 36;
const CHART_MARGIN = 3;

/** A block's characters at each recent commit, oldest first, as a line. */
export function SizeChart({ sizes }: { sizes: readonly number[] }) {
  if (sizes.length < 2) return null;
  const most = Math.max(1, ...sizes);
  const x = (index: number) => CHART_MARGIN + (index * (CHART_WIDTH - 2 * CHART_MARGIN)) / (sizes.length - 1);
  const y = (size: number) => CHART_HEIGHT - CHART_MARGIN - (size * (CHART_HEIGHT - 2 * CHART_MARGIN)) / most;
  const points = sizes.map((size, index) => `${x(index).toFixed(1)},${y(size).toFixed(1)}`).join(" ");
  const last = sizes.length - 1;
  return (
    <figure class="trend">
      <svg class="chart" viewBox={`0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`} width={CHART_WIDTH} height={CHART_HEIGHT} role="img">
        <title>{`Size over the last ${sizes.length} commits: from ${formatCharacters(sizes[0])} to ${formatCharacters(sizes[last])}`}</title>
        <line class="axis" x1={CHART_MARGIN} y1={CHART_HEIGHT - CHART_MARGIN} x2={CHART_WIDTH - CHART_MARGIN} y2={CHART_HEIGHT - CHART_MARGIN} />
        <polyline class="line" points={points} />
        <circle class="dot" cx={x(last).toFixed(1)} cy={y(sizes[last]).toFixed(1)} r="2.5" />
      </svg>
      <figcaption>size over the last {sizes.length} commits</figcaption>
    </figure>
  );
}

interface TreeNode {
  name: string;
  file?: MemoryFile;
  children: Map<string, TreeNode>;
}

function treeOf(files: readonly MemoryFile[]): TreeNode {
  const root: TreeNode = { name: "", children: new Map() };
  for (const file of files) {
    let node = root;
    for (const part of file.path.split("/")) {
      let child = node.children.get(part);
      if (!child) node.children.set(part, (child = { name: part, children: new Map() }));
      node = child;
    }
    node.file = file;
  }
  return root;
}

function TreeLevel({ node }: { node: TreeNode }) {
  return (
    <ul>
      {[...node.children.values()].map((child) =>
        child.file ? (
          <li>
            <details>
              <summary>
                {child.name}
                {child.file.kind === "skill" && <span class="badge skill">skill</span>}
                {child.file.description && <span class="muted"> — {child.file.description}</span>}
              </summary>
              <Markdown text={child.file.value} />
            </details>
          </li>
        ) : (
          <li>
            <span class="directory">{child.name}/</span>
            <TreeLevel node={child} />
          </li>
        ),
      )}
    </ul>
  );
}

/** Skills and other memory files as a tree of folders; each file opens to its rendered text (no script needed). */
export function FileTree({ files }: { files: readonly MemoryFile[] }) {
  if (files.length === 0) return <p class="muted">No other memory files.</p>;
  return (
    <div class="tree">
      <TreeLevel node={treeOf(files)} />
    </div>
  );
}

/**
 * The breadcrumbs of an owner's pages: the organisation's list of its kind, the owner, the pages
 * `via`, then `current` (absent: the owner's own page is the current one).
 */
export function OwnerCrumbs({ owner, via = [], current }: { owner: MemoryOwner; via?: readonly { label: string; href: string }[]; current?: Child }) {
  const [listLabel, listHref] = owner.kind === "agent" ? ["Agents", uiUrls.home] : ["Repositories", uiUrls.repositories];
  return (
    <nav class="crumbs" aria-label="Breadcrumb">
      <a href={listHref}>{listLabel}</a> /{" "}
      {current === undefined ? (
        <span aria-current="page">{ownerTitle(owner)}</span>
      ) : (
        <>
          <a href={uiUrls.owner(owner)}>{ownerTitle(owner)}</a> /{" "}
          {via.map(({ label, href }) => (
            <>
              <a href={href}>{label}</a> /{" "}
            </>
          ))}
          <span aria-current="page">{current}</span>
        </>
      )}
    </nav>
  );
}
