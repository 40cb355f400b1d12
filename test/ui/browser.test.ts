/**
 * The web page in a real browser: Debian's chromium (installed by .ci/run), driven by
 * playwright-core, against the compiled server, with memory pushed by the real git client.
 * Screenshots of the agent page go to test-artifacts/ (the README shows one, copied to docs/).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { CASE_TIMEOUT_MS, commitFiles, GitClient, ROOT, StategitServer } from "../conformance/harness.ts";
import { tempDir } from "../support/git.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "test-artifacts");
const AGENT = "agent-1";
/** How long the live test waits for a push to show: the issue asks for a second; this only bounds a broken run (no timed assertion). */
const LIVE_WAIT_MS = 20_000;

const MEMORY = {
  "system/human.md": "---\ndescription: What the agent knows of its human\nlimit: 400\n---\n# Ann\n\n- Prefers **short** answers\n- Works on `stategit`\n- Drinks tea\n",
  "system/persona.md": "---\ndescription: Who the agent is\nread_only: true\n---\nA careful assistant that keeps its memory in git.\n",
  "system/hostile.md": [
    "---",
    "description: Markdown that tries to run code",
    "---",
    "<script>alert('script')</script>",
    "",
    '<img src="http://elsewhere.test/x.png" onerror="alert(\'img\')">',
    "",
    "[do not click](javascript:alert('link'))",
    "",
  ].join("\n"),
  "skills/search/SKILL.md": "---\nname: search\ndescription: How to search the web\n---\nUse the search tool, then cite.\n",
  "notes/ideas.md": "Ideas for later.\n",
};

/**
 * Playwright hands every message between its client and its in-process server on with
 * setImmediate and relies on them running in the order scheduled, as Node runs them. Under Bun
 * 1.4 they now and then did not: a page's events arrived before the objects they name ("Cannot
 * find parent object request@… to create response@…"), failing about one run in two. While the
 * browser tests run, setImmediate queues its callbacks and runs them strictly in order; the
 * returned function puts the original back (bun test runs every file in one process).
 */
function immediatesInOrder(): () => void {
  const original = globalThis.setImmediate;
  const queue: (() => void)[] = [];
  const runQueued = () => {
    for (const callback of queue.splice(0)) callback();
  };
  const inOrder = (callback: (...args: unknown[]) => void, ...args: unknown[]) => {
    queue.push(() => callback(...args));
    if (queue.length === 1) original(runQueued);
  };
  globalThis.setImmediate = inOrder as unknown as typeof setImmediate;
  return () => {
    globalThis.setImmediate = original;
  };
}

describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)("the web page in chromium", () => {
  let server: StategitServer;
  let browser: Browser;
  let restoreImmediates = () => {};
  let git: GitClient;
  let work: string;
  let adminKey: string;
  let userKey: string;
  const scratch = tempDir("stategit-ui-");

  beforeAll(async () => {
    server = await StategitServer.start({ variant: "binary" });
    adminKey = (await server.admin(["key", "create", server.org, "--admin"])).stdout.trim();
    userKey = server.key;
    git = new GitClient(0, scratch.path);
    work = git.dir("work");
    await git.ok(["init", "-q", "-b", "main", work]);
    await commitFiles(git, work, MEMORY, "Initial memory");
    // A few sessions of learning, so that the size charts have a history to draw.
    let human = MEMORY["system/human.md"];
    for (const fact of ["Lives in Lyon", "Has a cat called Pixel", "Plays the cello"]) {
      human = human.replace("- Drinks tea\n", `- Drinks tea\n- ${fact}\n`);
      await commitFiles(git, work, { "system/human.md": human, "system/persona.md": `${MEMORY["system/persona.md"]}\nSessions so far: ${fact.length}.\n` }, `Learned: ${fact}`);
    }
    await commitFiles(git, work, { "system/human.md": MEMORY["system/human.md"], "system/persona.md": MEMORY["system/persona.md"] }, "Forget what Ann asked to forget");
    await commitFiles(git, work, { "system/human.md": MEMORY["system/human.md"].replace("- Drinks tea\n", "- Drinks tea\n- Reads Markdown\n") }, "Ann reads Markdown");
    await git.ok(["-C", work, "push", "-q", server.url(AGENT, { key: adminKey }), "main"]);
    const other = git.dir("other");
    await git.ok(["init", "-q", "-b", "main", other]);
    await commitFiles(git, other, { "system/human.md": "---\ndescription: secret\n---\nOther organisation.\n" }, "Other");
    await git.ok(["-C", other, "push", "-q", server.url("secret-agent", { key: await server.newKey("other") }), "main"]);
    restoreImmediates = immediatesInOrder();
    browser = await chromium.launch({ executablePath: CHROMIUM });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, CASE_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    restoreImmediates();
    await server?.stop();
    scratch.cleanup();
  });

  /** A fresh browser context (no cookies), with every request and dialog recorded. */
  async function newPage(viewport = { width: 1280, height: 900 }): Promise<{ page: Page; context: BrowserContext; requests: string[]; dialogs: string[] }> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const requests: string[] = [];
    const dialogs: string[] = [];
    page.on("request", (request) => requests.push(request.url()));
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    return { page, context, requests, dialogs };
  }

  async function signIn(page: Page, path: string, key = userKey): Promise<void> {
    await page.goto(`${server.origin}${path}`);
    expect(new URL(page.url()).pathname).toBe("/ui/sign-in");
    await page.fill("#key", key);
    await Promise.all([page.waitForURL(`${server.origin}${path}`), page.press("#key", "Enter")]);
  }

  test("without a session every page redirects to sign-in; signing in comes back to the page", async () => {
    const { page, context } = await newPage();
    for (const path of ["/ui/", `/ui/agents/${AGENT}`, `/ui/agents/${AGENT}/history`, "/ui/agents/secret-agent"]) {
      await page.goto(`${server.origin}${path}`);
      const url = new URL(page.url());
      expect(url.pathname).toBe("/ui/sign-in");
      expect(url.searchParams.get("next")).toBe(path);
    }
    await page.fill("#key", `${userKey.slice(0, -2)}xx`);
    await page.press("#key", "Enter");
    await expect(page.locator("[role=alert]").textContent()).resolves.toContain("not valid");
    await signIn(page, `/ui/agents/${AGENT}`);
    await context.close();
  }, CASE_TIMEOUT_MS);

  test("the agent page shows the blocks pushed by git, renders hostile Markdown inert, and requests nothing elsewhere", async () => {
    const { page, context, requests, dialogs } = await newPage();
    await signIn(page, `/ui/agents/${AGENT}`);
    // Keyboard: the first Tab reaches the skip link, which moves on to the content, then its first link.
    await page.keyboard.press("Tab");
    await expect(page.locator(":focus").textContent()).resolves.toBe("Skip to content");
    await page.keyboard.press("Enter");
    await page.keyboard.press("Tab");
    await expect(page.locator(":focus").textContent()).resolves.toBe("Agents");

    await expect(page.locator("#block-human h3").textContent()).resolves.toBe("human");
    await expect(page.locator("#block-human .description").textContent()).resolves.toBe("What the agent knows of its human");
    await expect(page.locator("#block-human .markdown li").allTextContents()).resolves.toEqual(["Prefers short answers", "Works on stategit", "Drinks tea", "Reads Markdown"]);
    await expect(page.locator("#block-human .size span").textContent()).resolves.toMatch(/^\d+ characters of 400$/);
    expect(await page.locator("#block-human svg.chart polyline").count()).toBe(1);
    await expect(page.locator("#block-persona .badge.read-only").textContent()).resolves.toBe("read-only");
    await expect(page.locator("#files summary").allTextContents()).resolves.toEqual(["ideas.md", "SKILL.mdskill — How to search the web"]);

    const hostile = page.locator("#block-hostile .markdown");
    await expect(hostile.textContent()).resolves.toContain("<script>alert('script')</script>");
    expect(await hostile.locator("script, img, [onerror]").count()).toBe(0);
    expect(await page.locator('a[href^="javascript:" i]').count()).toBe(0);
    const link = page.getByText("[do not click](javascript:alert('link'))");
    expect(await link.evaluate((element) => element.closest("a"))).toBeNull();
    await link.click();
    expect(dialogs).toEqual([]);
    expect(new URL(page.url()).pathname).toBe(`/ui/agents/${AGENT}`);
    expect(requests.filter((url) => !url.startsWith(`${server.origin}/ui/`))).toEqual([]);

    await page.screenshot({ path: join(ARTIFACTS, "agent-desktop.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.locator("html").evaluate((root) => root.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(ARTIFACTS, "agent-phone.png"), fullPage: true });
    await context.close();
  }, CASE_TIMEOUT_MS);

  test("the commit page shows the lines a push added and removed, and the memory at that commit", async () => {
    const { page, context } = await newPage();
    await signIn(page, `/ui/agents/${AGENT}/history`);
    await expect(page.locator(".commits li a").allTextContents()).resolves.toEqual([
      "Ann reads Markdown",
      "Forget what Ann asked to forget",
      "Learned: Plays the cello",
      "Learned: Has a cat called Pixel",
      "Learned: Lives in Lyon",
      "Initial memory",
    ]);
    await page.locator(".commits li a", { hasText: "Ann reads Markdown" }).click();
    await expect(page.locator("tr.add .text").allTextContents()).resolves.toEqual(["+- Reads Markdown"]);
    await commitFiles(git, work, { "system/human.md": MEMORY["system/human.md"].replace("- Drinks tea\n", "- Drinks coffee\n") }, "Coffee, not tea");
    await git.ok(["-C", work, "push", "-q", server.url(AGENT, { key: adminKey }), "main"]);
    await page.goto(`${server.origin}/ui/agents/${AGENT}/history?path=system/human.md`);
    await page.locator(".commits li a", { hasText: "Coffee, not tea" }).click();
    await expect(page.locator("tr.del .text").allTextContents()).resolves.toEqual(["-- Drinks tea", "-- Reads Markdown"]);
    await expect(page.locator("tr.add .text").allTextContents()).resolves.toEqual(["+- Drinks coffee"]);
    await page.screenshot({ path: join(ARTIFACTS, "commit.png"), fullPage: true });
    await page.getByText("Memory at this commit").click();
    await expect(page.locator("#block-human .markdown").textContent()).resolves.toContain("Drinks coffee");
    await page.goBack();
    await page.locator(".commit-meta dd a").first().click();
    await page.getByText("Memory at this commit").click();
    await expect(page.locator("#block-human .markdown").textContent()).resolves.toContain("Reads Markdown");
    await context.close();
  }, CASE_TIMEOUT_MS);

  test("a push made while the agent page is open appears on it, without a reload", async () => {
    const { page, context } = await newPage();
    await signIn(page, `/ui/agents/${AGENT}`);
    await page.locator("#live-status", { hasText: "changes appear here" }).waitFor();
    await page.evaluate(() => void ((globalThis as { notReloaded?: boolean }).notReloaded = true));
    const human = await git.ok(["-C", work, "show", "HEAD:system/human.md"]);
    await commitFiles(git, work, { "system/human.md": `${human}\n- Learned while the page was open\n` }, "Learned live");
    await git.ok(["-C", work, "push", "-q", server.url(AGENT, { key: adminKey }), "main"]);
    const pushed = performance.now();
    await page.locator("#block-human li", { hasText: "Learned while the page was open" }).waitFor({ timeout: LIVE_WAIT_MS });
    const latency = performance.now() - pushed;
    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);
    writeFileSync(join(ARTIFACTS, "live-update.txt"), `push acknowledged → shown on the page: ${latency.toFixed(0)} ms\n`);
    console.log(`live update: shown ${latency.toFixed(0)} ms after the push was acknowledged`);
    await context.close();
  }, CASE_TIMEOUT_MS);

  test("another organisation's agent is a 404, and so is an agent that does not exist", async () => {
    const { page, context } = await newPage();
    await signIn(page, "/ui/");
    await expect(page.locator("table.agents tbody th").allTextContents()).resolves.toEqual([AGENT]);
    for (const agent of ["secret-agent", "nobody"]) {
      const response = await page.goto(`${server.origin}/ui/agents/${agent}`);
      expect(response?.status()).toBe(404);
      await expect(page.locator("h1").textContent()).resolves.toBe("Not found");
    }
    await context.close();
  }, CASE_TIMEOUT_MS);

  test("a shared repository attached to the agent is listed on its page, and its page shows a block pushed through the agent's URL", async () => {
    const api = (method: string, path: string, body: unknown) =>
      fetch(`${server.origin}${path}`, { method, headers: { authorization: `Bearer ${userKey}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    const { id } = (await (await api("POST", "/v1/repositories", { name: "team" })).json()) as { id: string };
    expect((await api("POST", `/v1/agents/${AGENT}/repositories`, { repository_id: id })).status).toBe(200);
    const team = git.dir("team");
    await git.ok(["init", "-q", "-b", "main", team]);
    const plan = "---\nname: Plan\ndescription: What the team does next\n---\nShip the **beta** on Friday.\n";
    await commitFiles(git, team, { "MEMORY.md": "# Team memory\n", "plan.md": plan }, "Team plan");
    await git.ok(["-C", team, "push", "-q", server.url(AGENT, { repository: "team" }), "main"]);

    const { page, context } = await newPage();
    await signIn(page, `/ui/agents/${AGENT}`);
    const listed = page.locator("#attached li a", { hasText: "team" });
    await expect(listed.getAttribute("href")).resolves.toBe(`/ui/repositories/${id}`);
    await listed.click();
    await expect(page.locator(".title-row h1").textContent()).resolves.toBe("team");
    await expect(page.locator("#block-plan .description").textContent()).resolves.toBe("What the team does next");
    await expect(page.locator("#block-plan .markdown strong").textContent()).resolves.toBe("beta");
    await expect(page.locator("#attached li a").allTextContents()).resolves.toEqual([AGENT]);
    await page.screenshot({ path: join(ARTIFACTS, "repository.png"), fullPage: true });
    await context.close();
  }, CASE_TIMEOUT_MS);
});
