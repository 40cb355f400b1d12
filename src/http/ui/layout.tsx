/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";

export interface LayoutProps {
  title: string;
  /** The signed-in organisation and the sign-out form's token; absent on the sign-in page. */
  session?: { org: string; formToken: string };
  /** The live-update script's element: only the agent page sets it. */
  live?: { events: string; refresh: string };
  children: Child;
}

/** Every page's frame: a skip link for the keyboard, the header with sign-out, one stylesheet, at most one script. */
export function Layout({ title, session, live, children }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · stategit`}</title>
        <link rel="icon" href="/ui/assets/icon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/ui/assets/style.css" />
        {live && <script src="/ui/assets/live.js" defer />}
      </head>
      <body>
        <a class="skip" href="#content">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/ui/">
            stategit
          </a>
          {session && (
            <>
              <span class="org">{session.org}</span>
              <form method="post" action="/ui/sign-out" class="sign-out">
                <input type="hidden" name="csrf" value={session.formToken} />
                <button type="submit">Sign out</button>
              </form>
            </>
          )}
        </header>
        <main id="content" tabindex={-1} data-live-events={live?.events} data-live-refresh={live?.refresh}>
          {children}
        </main>
      </body>
    </html>
  );
}
