/** @jsxImportSource hono/jsx */
import { Layout } from "../layout.tsx";

export interface SignInProps {
  formToken: string;
  next: string;
  error?: string;
}

export function SignInPage({ formToken, next, error }: SignInProps) {
  return (
    <Layout title="Sign in">
      <section class="sign-in">
        <h1>Sign in</h1>
        <p class="muted">
          With an API key of your organisation (<code>stategit key create ORG</code>). The browser keeps a session cookie, never the key.
        </p>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <form method="post" action="/ui/sign-in">
          <input type="hidden" name="csrf" value={formToken} />
          <input type="hidden" name="next" value={next} />
          <label for="key">API key</label>
          <input id="key" name="key" type="password" autocomplete="current-password" required autofocus spellcheck={false} />
          <button type="submit">Sign in</button>
        </form>
      </section>
    </Layout>
  );
}
