/** The web page without a browser: sessions, cross-site protection, and what the pages render. */
import { describe, expect, test } from "bun:test";
import { databasePerTest, DATABASE_KINDS } from "../db/databases.ts";
import { ORIGIN, setCookies, uiFixture } from "./support.ts";

const SAME_SITE = { origin: ORIGIN, "sec-fetch-site": "same-origin" };

const HOSTILE = [
  "Hello <script>alert('script')</script>",
  "",
  '<img src="x" onerror="alert(\'img\')">',
  "",
  "[click me](javascript:alert('link')) and [also](JAVASCRIPT:alert(1)) and ![pic](https://elsewhere.test/p.png)",
].join("\n");

for (const kind of DATABASE_KINDS) describe.skipIf(kind.skip !== undefined)(`the web page on ${kind.name}`, () => {
  const { open } = databasePerTest(kind);

  async function setUp() {
    const ui = uiFixture(await open());
    await ui.accounts.createOrg("acme");
    await ui.accounts.createOrg("other");
    const acme = await ui.accounts.createKey("acme", { admin: true });
    const other = await ui.accounts.createKey("other");
    await ui.putBlock(acme.key, "agent-1", "human", { value: "Likes **tea**.\n", description: "Who the human is", limit: 100 });
    await ui.putBlock(acme.key, "agent-1", "human", { value: "Likes **tea** and coffee.\n", description: "Who the human is", limit: 100, message: "Coffee too" });
    await ui.putBlock(acme.key, "agent-1", "persona", { value: "Helpful.\n", description: "The persona", read_only: true });
    await ui.putBlock(other.key, "secret-agent", "human", { value: "Not for acme.\n", description: "Other org" });
    return { ui, acme, other };
  }

  test("without a session, every page redirects to sign-in and comes back after it; the assets need none", async () => {
    const { ui } = await setUp();
    for (const path of ["/ui/", "/ui/agents/agent-1", "/ui/agents/agent-1/history?path=system/human.md", "/ui/agents/agent-1/commits/" + "0".repeat(40), "/ui/repositories/repo-x/history", "/ui/nowhere"]) {
      const response = await ui.request(path);
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe(`/ui/sign-in?next=${encodeURIComponent(path)}`);
    }
    expect((await ui.request("/ui/agents/agent-1", { cookies: { stategit_session: "x".repeat(43) } })).status).toBe(303);
    expect((await ui.request("/ui")).headers.get("location")).toBe("/ui/");
    for (const [path, type] of [["/ui/assets/style.css", "text/css"], ["/ui/assets/live.js", "text/javascript"]]) {
      const response = await ui.request(path);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toStartWith(type);
      expect((await response.text()).length).toBeGreaterThan(100);
    }
  });

  test("sign-in sets an HttpOnly, SameSite=Strict session cookie, Secure behind HTTPS, and goes only to pages of /ui/", async () => {
    const { ui, acme } = await setUp();
    const form = await ui.request("/ui/sign-in?next=//elsewhere.test/x");
    expect(form.headers.get("content-security-policy")).toStartWith("default-src 'self'");
    const formCookie = setCookies(form).stategit_sign_in;
    const html = await form.text();
    const token = /name="csrf" value="([^"]+)"/.exec(html)![1];
    expect(html).toContain('name="next" value="/ui/"');
    for (const proto of ["http", "https"]) {
      const answer = await ui.request("/ui/sign-in", {
        form: { csrf: token, key: acme.key, next: "/ui/agents/agent-1" },
        cookies: { stategit_sign_in: formCookie },
        headers: { ...SAME_SITE, "x-forwarded-proto": proto },
      });
      expect(answer.status).toBe(303);
      expect(answer.headers.get("location")).toBe("/ui/agents/agent-1");
      const cookie = answer.headers.getSetCookie().find((line) => line.startsWith("stategit_session="))!;
      expect(cookie).toContain("HttpOnly");
      expect(cookie).toContain("SameSite=Strict");
      expect(cookie.includes("Secure")).toBe(proto === "https");
    }
  });

  test("a sign-in from another site, or without the form's token, is refused; a wrong key is told so", async () => {
    const { ui, acme } = await setUp();
    const form = await ui.request("/ui/sign-in");
    const formCookie = setCookies(form).stategit_sign_in;
    const token = /name="csrf" value="([^"]+)"/.exec(await form.text())![1];
    const attempt = (fields: Record<string, string>, headers: Record<string, string>, cookies: Record<string, string> = { stategit_sign_in: formCookie }) =>
      ui.request("/ui/sign-in", { form: { csrf: token, key: acme.key, ...fields }, headers, cookies });
    const refusals = [
      await attempt({}, { origin: "https://evil.test", "sec-fetch-site": "cross-site" }),
      await attempt({}, { origin: "https://evil.test" }),
      await attempt({}, { "sec-fetch-site": "same-site" }),
      await attempt({}, { origin: "null" }),
      await attempt({ csrf: "forged" }, SAME_SITE),
      await attempt({}, SAME_SITE, {}),
    ];
    for (const refused of refusals) {
      expect(refused.status).toBe(403);
      expect(setCookies(refused).stategit_session).toBeUndefined();
    }
    const wrong = await attempt({ key: `${acme.key.slice(0, -1)}${acme.key.endsWith("A") ? "B" : "A"}` }, SAME_SITE);
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain("That key is not valid");
    expect(setCookies(wrong).stategit_session).toBeUndefined();
  });

  test("sign-out needs the session's form token; it ends the session, and so does revoking the key", async () => {
    const { ui, acme } = await setUp();
    const session = await ui.signIn(acme.key);
    const page = await ui.request("/ui/", { cookies: { stategit_session: session } });
    expect(page.status).toBe(200);
    const token = /action="\/ui\/sign-out"[^]*?name="csrf" value="([^"]+)"/.exec(await page.text())![1];
    const forged = await ui.request("/ui/sign-out", { form: { csrf: "forged" }, cookies: { stategit_session: session }, headers: SAME_SITE });
    expect(forged.status).toBe(403);
    const crossSite = await ui.request("/ui/sign-out", { form: { csrf: token }, cookies: { stategit_session: session }, headers: { origin: "https://evil.test" } });
    expect(crossSite.status).toBe(403);
    expect((await ui.request("/ui/", { cookies: { stategit_session: session } })).status).toBe(200);
    const out = await ui.request("/ui/sign-out", { form: { csrf: token }, cookies: { stategit_session: session }, headers: SAME_SITE });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/ui/sign-in");
    expect((await ui.request("/ui/", { cookies: { stategit_session: session } })).status).toBe(303);

    const again = await ui.signIn(acme.key);
    expect((await ui.request("/ui/", { cookies: { stategit_session: again } })).status).toBe(200);
    await ui.accounts.revokeKey(acme.id);
    expect((await ui.request("/ui/", { cookies: { stategit_session: again } })).status).toBe(303);
  });

  test("the organisation page lists its own agents with their sizes, and search highlights the words found", async () => {
    const { ui, acme } = await setUp();
    const session = { stategit_session: await ui.signIn(acme.key) };
    const page = await (await ui.request("/ui/", { cookies: session })).text();
    expect(page).toContain('href="/ui/agents/agent-1"');
    expect(page).not.toContain("secret-agent");
    expect(page).toMatch(/<td class="number">2<\/td><td class="number">35 characters<\/td>/);
    const search = await (await ui.request("/ui/?q=coffee", { cookies: session })).text();
    expect(search).toContain("<mark>coffee</mark>");
    expect(await (await ui.request("/ui/?q=acme", { cookies: session })).text()).not.toContain("Not for acme");
  });

  test("the agent page shows blocks with description, read-only badge, size against the limit and a chart; another org's agent is 404", async () => {
    const { ui, acme } = await setUp();
    const session = { stategit_session: await ui.signIn(acme.key) };
    const response = await ui.request("/ui/agents/agent-1", { cookies: session });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-security-policy")).toBe(
      "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
    );
    const page = await response.text();
    expect(page).toContain("Who the human is");
    expect(page).toMatch(/<h3 id="title-persona">persona<\/h3><span class="badge read-only">read-only<\/span>/);
    expect(page).toContain("26 characters of 100");
    expect(page).toContain("<strong>tea</strong>");
    expect(page).toMatch(/<polyline class="line" points="[\d., ]+"/);
    expect(page).not.toMatch(/ style=/);
    expect(page).not.toMatch(/<script>/);
    for (const path of ["/ui/agents/secret-agent", "/ui/agents/secret-agent/history", "/ui/agents/nobody", "/ui/agents/a..b"]) {
      const answer = await ui.request(path, { cookies: session });
      expect(answer.status).toBe(404);
      expect(await answer.text()).not.toContain("Not for acme");
    }
  });

  test("Markdown with a script, an image with onerror and a javascript: link renders inert", async () => {
    const { ui, acme } = await setUp();
    await ui.putBlock(acme.key, "agent-1", "hostile", { value: HOSTILE, description: "Hostile" });
    const session = { stategit_session: await ui.signIn(acme.key) };
    const page = await (await ui.request("/ui/agents/agent-1", { cookies: session })).text();
    expect(page).toContain("<p>Hello &lt;script&gt;alert('script')&lt;/script&gt;</p>");
    expect(page).toContain("&lt;img src=&quot;x&quot; onerror=");
    expect(page).not.toMatch(/<script>|<img|href="javascript:|href="JAVASCRIPT:/i);
    expect(page).toContain('<a href="https://elsewhere.test/p.png" class="image-link"');
  });

  test("the agent page's live stream: its agent's change events, for a session only, never another org's agent", async () => {
    const { ui, acme } = await setUp();
    const session = { stategit_session: await ui.signIn(acme.key) };
    const page = await (await ui.request("/ui/agents/agent-1", { cookies: session })).text();
    const stream = /data-live-events="([^"]+)"/.exec(page)![1].replaceAll("&amp;", "&");
    expect(stream).toMatch(/^\/ui\/agents\/agent-1\/events\?last_event_id=\d+$/);
    expect(page).toContain('<script src="/ui/assets/live.js" defer=""></script>');
    expect((await ui.request(stream)).status).toBe(303);
    expect((await ui.request("/ui/agents/secret-agent/events", { cookies: session })).status).toBe(404);
    expect((await ui.request("/ui/agents/agent-1/events?last_event_id=x", { cookies: session })).status).toBe(400);

    const response = await ui.request(stream, { cookies: session });
    expect(response.headers.get("content-type")).toStartWith("text/event-stream");
    const reader = response.body!.getReader();
    await ui.putBlock(acme.key, "agent-1", "human", { value: "Likes tea, coffee and cocoa.\n", description: "Who the human is", limit: 100 });
    let text = "";
    while (!text.includes("event: change")) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain('"label":"human"');
    ui.closeStreams();
  });

  test("history lists commits newest first with their source; a commit page diffs each file; memory at a past commit", async () => {
    const { ui, acme } = await setUp();
    const session = { stategit_session: await ui.signIn(acme.key) };
    const history = await (await ui.request("/ui/agents/agent-1/history?path=system/human.md", { cookies: session })).text();
    const links = [...history.matchAll(/href="\/ui\/agents\/agent-1\/commits\/([0-9a-f]{40})">([^<]+)</g)].map((match) => ({ id: match[1], message: match[2] }));
    expect(links.map((link) => link.message)).toEqual(["Coffee too", "Create human"]);
    expect(history).toContain('<span class="badge source-api">API</span>');
    const commit = await (await ui.request(`/ui/agents/agent-1/commits/${links[0].id}`, { cookies: session })).text();
    expect(commit).toContain('<tr class="del"><td class="num">5</td><td class="num"></td><td class="text">-Likes **tea**.</td></tr>');
    expect(commit).toContain('<tr class="add"><td class="num"></td><td class="num">5</td><td class="text">+Likes **tea** and coffee.</td></tr>');
    const past = await (await ui.request(`/ui/agents/agent-1?at=${links[1].id}`, { cookies: session })).text();
    expect(past).toContain("Memory as it was at this commit");
    expect(past).toContain("Likes <strong>tea</strong>.");
    expect(past).not.toContain("persona");
    for (const path of [`/ui/agents/agent-1/commits/${"0".repeat(40)}`, "/ui/agents/agent-1/commits/main", `/ui/agents/agent-1?at=${"1".repeat(40)}`, "/ui/agents/agent-1?at=HEAD"]) {
      expect((await ui.request(path, { cookies: session })).status).toBe(404);
    }
  });

  /** A shared repository "team" of acme attached to agent-1, with two commits to its block `plan`; and one of the other org. */
  async function withSharedRepositories() {
    const fixture = await setUp();
    const { ui, acme, other } = fixture;
    const { id } = await ui.api(acme.key, "POST", "/v1/repositories", { name: "team" });
    await ui.api(acme.key, "POST", "/v1/agents/agent-1/repositories", { repository_id: id });
    await ui.putBlock(acme.key, `repositories/${id}`, "plan", { value: "Ship the **beta**.\n", description: "What the team does next" });
    await ui.putBlock(acme.key, `repositories/${id}`, "plan", { value: "Ship the **beta** on Friday.\n", description: "What the team does next", message: "Friday" });
    const theirs = await ui.api(other.key, "POST", "/v1/repositories", { name: "their-team" });
    await ui.putBlock(other.key, `repositories/${theirs.id}`, "plan", { value: "Not for acme.\n", description: "Other org" });
    return { ...fixture, id, theirs: theirs.id as string, session: { stategit_session: await ui.signIn(acme.key) } };
  }

  test("the agent and organisation pages list shared repositories; a search hit in one links to its page", async () => {
    const { ui, acme, id, session } = await withSharedRepositories();
    const agent = await (await ui.request("/ui/agents/agent-1", { cookies: session })).text();
    expect(agent).toContain(`<li><a href="/ui/repositories/${id}">team</a> <code class="muted">/v1/git/agent-1/repositories/team.git</code></li>`);
    const organisation = await (await ui.request("/ui/", { cookies: session })).text();
    expect(organisation).toMatch(new RegExp(`<th scope="row"><a href="/ui/repositories/${id}">team</a></th><td><a href="/ui/agents/agent-1">agent-1</a></td>`));
    expect(organisation).not.toContain("their-team");
    const search = await (await ui.request("/ui/?q=friday", { cookies: session })).text();
    expect(search).toContain(`<a href="/ui/repositories/${id}#block-plan"><strong>team</strong> · plan</a>`);
    await ui.api(acme.key, "DELETE", `/v1/agents/agent-1/repositories/${id}`);
    expect(await (await ui.request("/ui/agents/agent-1", { cookies: session })).text()).toContain("No shared repository is attached to this agent.");
  });

  test("a shared repository's page shows its v2 blocks, the agents it is attached to, and follows its own stream; another org's is 404", async () => {
    const { ui, acme, id, theirs, session } = await withSharedRepositories();
    const response = await ui.request(`/ui/repositories/${id}`, { cookies: session });
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toContain('<nav class="crumbs" aria-label="Breadcrumb"><a href="/ui/#repositories">Repositories</a> / <span aria-current="page">team</span></nav>');
    expect(page).toContain('<h3 id="title-plan">plan</h3>');
    expect(page).toContain("What the team does next");
    expect(page).toContain("Ship the <strong>beta</strong> on Friday.");
    expect(page).toContain(`href="/ui/repositories/${id}/history?path=plan.md"`);
    expect(page).toContain('<li><a href="/ui/agents/agent-1">agent-1</a></li>');
    const stream = /data-live-events="([^"]+)"/.exec(page)![1].replaceAll("&amp;", "&");
    expect(stream).toMatch(new RegExp(`^/ui/repositories/${id}/events\\?last_event_id=\\d+$`));
    expect(/data-live-refresh="([^"]+)"/.exec(page)![1]).toBe(`/ui/repositories/${id}/memory`);
    expect(await (await ui.request(`/ui/repositories/${id}/memory`, { cookies: session })).text()).toContain("Ship the <strong>beta</strong> on Friday.");

    const events = await ui.request(stream, { cookies: session });
    expect(events.headers.get("content-type")).toStartWith("text/event-stream");
    const reader = events.body!.getReader();
    await ui.putBlock(acme.key, `repositories/${id}`, "plan", { value: "Ship the beta on Monday.\n", description: "What the team does next" });
    let text = "";
    while (!text.includes("event: change")) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain(`"repository":{"id":"${id}","name":"team"}`);
    ui.closeStreams();

    const never = await ui.api(acme.key, "POST", "/v1/repositories", { name: "never-written" });
    const empty = await ui.request(`/ui/repositories/${never.id}`, { cookies: session });
    expect(empty.status).toBe(200);
    expect(await empty.text()).toContain("Nothing has been written yet");
    expect((await ui.request(`/ui/repositories/${never.id}/history`, { cookies: session })).status).toBe(200);

    for (const path of ["", "/history", "/memory", "/events", `/commits/${"0".repeat(40)}`]) {
      for (const unknown of [theirs, "repo-nope", "a..b"]) {
        const answer = await ui.request(`/ui/repositories/${unknown}${path}`, { cookies: session });
        expect(answer.status).toBe(404);
        expect(await answer.text()).not.toContain("Not for acme");
      }
    }
  });

  test("a shared repository's history, commit diffs and memory at a past commit", async () => {
    const { ui, id, session } = await withSharedRepositories();
    const history = await (await ui.request(`/ui/repositories/${id}/history`, { cookies: session })).text();
    const links = [...history.matchAll(new RegExp(`href="/ui/repositories/${id}/commits/([0-9a-f]{40})">([^<]+)<`, "g"))].map((match) => ({ id: match[1], message: match[2] }));
    expect(links.map((link) => link.message)).toEqual(["Friday", "Create plan"]);
    const commit = await (await ui.request(`/ui/repositories/${id}/commits/${links[0].id}`, { cookies: session })).text();
    expect(commit).toContain('<tr class="del"><td class="num">5</td><td class="num"></td><td class="text">-Ship the **beta**.</td></tr>');
    expect(commit).toContain('<tr class="add"><td class="num"></td><td class="num">5</td><td class="text">+Ship the **beta** on Friday.</td></tr>');
    expect(commit).toContain(`<a class="button" href="/ui/repositories/${id}?at=${links[0].id}">`);
    const past = await (await ui.request(`/ui/repositories/${id}?at=${links[1].id}`, { cookies: session })).text();
    expect(past).toContain("Memory as it was at this commit");
    expect(past).toContain("Ship the <strong>beta</strong>.");
    expect(past).not.toContain("data-live-events");
    for (const path of [`/commits/${links[0].id.replace(/^./, (c) => (c === "0" ? "1" : "0"))}`, `?at=${"1".repeat(40)}`]) {
      expect((await ui.request(`/ui/repositories/${id}${path}`, { cookies: session })).status).toBe(404);
    }
  });
});
