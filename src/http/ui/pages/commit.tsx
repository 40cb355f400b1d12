/** @jsxImportSource hono/jsx */
import type { StructuredPatchHunk } from "diff";
import { OwnerCrumbs, Time } from "../components.tsx";
import { Layout, type LayoutProps } from "../layout.tsx";
import type { CommitView, FileDiff } from "../memory-view.ts";
import { uiUrls, type MemoryOwner } from "../urls.ts";
import { firstLine, SourceBadge } from "./history.tsx";

export interface CommitProps {
  session: NonNullable<LayoutProps["session"]>;
  owner: MemoryOwner;
  view: CommitView;
}

const LINE_CLASS: Record<string, string> = { "+": "add", "-": "del", " ": "ctx", "\\": "note" };

/** One hunk as rows of old and new line numbers and the line, the way `git diff` prints it. */
function Hunk({ hunk }: { hunk: StructuredPatchHunk }) {
  let oldLine = hunk.oldStart;
  let newLine = hunk.newStart;
  return (
    <>
      <tr class="hunk">
        <td colspan={3}>{`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`}</td>
      </tr>
      {hunk.lines.map((line) => {
        const sign = line[0];
        const old = sign === "+" || sign === "\\" ? "" : oldLine++;
        const next = sign === "-" || sign === "\\" ? "" : newLine++;
        return (
          <tr class={LINE_CLASS[sign] ?? "ctx"}>
            <td class="num">{old}</td>
            <td class="num">{next}</td>
            <td class="text">{line}</td>
          </tr>
        );
      })}
    </>
  );
}

function FileSection({ file }: { file: FileDiff }) {
  return (
    <section class="file-diff">
      <h2>
        <code>{file.path}</code> <span class={`badge change-${file.change}`}>{file.change}</span>
      </h2>
      {file.kind === "text" ? (
        <div class="table-scroll">
          <table class="diff">
            <tbody>
              {file.hunks.map((hunk) => (
                <Hunk hunk={hunk} />
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="muted">Not shown: binary, or too large to diff here.</p>
      )}
    </section>
  );
}

export function CommitPage({ session, owner, view }: CommitProps) {
  const { commit, files } = view;
  return (
    <Layout title={firstLine(commit.message)} session={session}>
      <OwnerCrumbs owner={owner} via={[{ label: "History", href: uiUrls.history(owner) }]} current={commit.id.slice(0, 12)} />
      <h1>{firstLine(commit.message)}</h1>
      <pre class="message">{commit.message.split("\n").slice(1).join("\n").trim()}</pre>
      <dl class="commit-meta">
        <dt>Author</dt>
        <dd>
          {commit.author.name} &lt;{commit.author.email}&gt;, <Time value={commit.author.time} />
        </dd>
        <dt>Source</dt>
        <dd>
          <SourceBadge source={commit.source} />
        </dd>
        <dt>Commit</dt>
        <dd>
          <code>{commit.id}</code>
        </dd>
        {commit.parents.map((parent) => (
          <>
            <dt>Parent</dt>
            <dd>
              <a href={uiUrls.commit(owner, parent)}>
                <code>{parent.slice(0, 12)}</code>
              </a>
            </dd>
          </>
        ))}
      </dl>
      <p>
        <a class="button" href={uiUrls.owner(owner, commit.id)}>
          Memory at this commit
        </a>
      </p>
      {files.length === 0 ? <p class="muted">No file changed.</p> : files.map((file) => <FileSection file={file} />)}
    </Layout>
  );
}
