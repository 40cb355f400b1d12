/** @jsxImportSource hono/jsx */
import { Layout, type LayoutProps } from "../layout.tsx";
import { uiUrls } from "../urls.ts";

export function NotFoundPage({ session, what }: { session: LayoutProps["session"]; what: string }) {
  return (
    <Layout title="Not found" session={session}>
      <h1>Not found</h1>
      <p>{what}</p>
      <p>
        <a href={uiUrls.home}>All agents</a>
      </p>
    </Layout>
  );
}
