/** Repositories the conformance cases start from, pushed to a fresh agent of the server under test. */
import { seededRandom } from "../support/random.ts";
import { commitFiles, fastImport, historyStream, parseRefLines, type GitClient, type SuiteContext } from "./harness.ts";

/** Committer time of the first commit of the standard history (2023-11-14); each next is a day later. */
export const HISTORY_START = 1_700_000_000;

export interface Seeded {
  agent: string;
  /** The agent's URL with credentials. */
  url: string;
  /** The local (bare) repository that was pushed: the oracle for what the server must serve. */
  source: string;
}

/**
 * The standard history: `main` with 12 daily commits, an annotated tag `v1` on the 5th, a
 * lightweight tag `light` on the 10th, and `feature` (3 commits from the 8th) with an annotated
 * tag `feature-tag` on its tip.
 */
export function standardHistory(): string {
  const tag = (name: string, mark: number, time: number) =>
    `tag ${name}\nfrom :${mark}\ntagger Test Tagger <tagger@example.com> ${time} +0000\ndata ${name.length + 9}\nrelease ${name}\n\n`;
  return [
    historyStream({ ref: "refs/heads/main", count: 12, startTime: HISTORY_START, label: "main" }),
    tag("v1", 5, HISTORY_START + 5 * 86_400),
    "reset refs/tags/light\nfrom :10\n\n",
    historyStream({ ref: "refs/heads/feature", count: 3, from: ":8", startTime: HISTORY_START + 20 * 86_400, label: "feature" }, 12),
    tag("feature-tag", 15, HISTORY_START + 23 * 86_400),
  ].join("");
}

/** A new bare repository holding the fast-import `stream`, its HEAD on main. */
export async function sourceRepository(git: GitClient, stream: string): Promise<string> {
  const source = git.dir("source");
  await git.ok(["init", "-q", "--bare", "-b", "main", source]);
  await fastImport(git, source, stream);
  return source;
}

/** Pushes every branch and tag of `source` to a fresh agent of `server` (the suite's by default). */
export async function seedAgent(context: Pick<SuiteContext, "git" | "server">, stream = standardHistory()): Promise<Seeded> {
  const { git, server } = context;
  const source = await sourceRepository(git, stream);
  const agent = server.newAgent();
  const url = server.url(agent);
  await git.ok(["-C", source, "push", "-q", url, "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*"]);
  return { agent, url, source };
}

/** What ls-remote must show for a repository: HEAD, every ref, and peeled tags. */
export async function expectedRefs(git: GitClient, repo: string): Promise<Map<string, string>> {
  const refs = parseRefLines(await git.ok(["-C", repo, "show-ref", "-d"]));
  refs.set("HEAD", await git.revParse(repo, "HEAD"));
  return refs;
}

/** `length` deterministic bytes from a seed: incompressible content that still reproduces. */
export function randomBytes(length: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  const bytes = new Uint8Array(length);
  const words = new Uint32Array(bytes.buffer, 0, length >>> 2);
  for (let i = 0; i < words.length; i++) words[i] = random() * 0x1_0000_0000;
  for (let i = words.length * 4; i < length; i++) bytes[i] = random() * 256;
  return bytes;
}

/** `lines` lines of random hex text: large, poorly compressible, and diff-friendly. */
export function randomTextLines(lines: number, seed: number): string[] {
  const random = seededRandom(seed);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    let line = `${i}:`;
    for (let j = 0; j < 8; j++) line += Math.floor(random() * 0x1_0000_0000).toString(16).padStart(8, "0");
    out.push(line);
  }
  return out;
}

/** Pushes `count` more commits on main from a scratch clone of `url`; returns the new tip. */
export async function advanceMain(git: GitClient, url: string, count: number, label: string): Promise<string> {
  const writer = git.dir("writer");
  await git.ok(["clone", "-q", url, writer]);
  let tip = "";
  for (let i = 0; i < count; i++) tip = await commitFiles(git, writer, { [`${label}/${i}.md`]: `${label} ${i}\n` }, `${label} ${i}`);
  await git.ok(["-C", writer, "push", "-q", "origin", "main"]);
  return tip;
}

/** A fresh bare clone of `url`, checked with git fsck; returns its path. */
export async function checkedClone(git: GitClient, url: string): Promise<string> {
  const clone = git.dir("check");
  await git.ok(["clone", "-q", "--bare", url, clone]);
  await git.fsck(clone);
  return clone;
}

/** A seeded agent and a working clone of it. */
export async function seededClone(context: Pick<SuiteContext, "git" | "server">): Promise<Seeded & { clone: string }> {
  const seeded = await seedAgent(context);
  const clone = context.git.dir("clone");
  await context.git.ok(["clone", "-q", seeded.url, clone]);
  return { ...seeded, clone };
}

/** A fresh agent whose first push, from a new repository `writer`, is one commit of `files`. */
export async function agentWithFiles(
  context: Pick<SuiteContext, "git" | "server">,
  files: Record<string, string | Uint8Array>,
): Promise<{ agent: string; url: string; writer: string; tip: string }> {
  const { git, server } = context;
  const agent = server.newAgent();
  const url = server.url(agent);
  const writer = git.dir("writer");
  await git.ok(["init", "-q", "-b", "main", writer]);
  const tip = await commitFiles(git, writer, files, "first");
  await git.ok(["-C", writer, "push", "-q", url, "main"]);
  return { agent, url, writer, tip };
}

/** Clones a repository that must be empty: git says so, and succeeds. */
export async function cloneEmpty(git: GitClient, url: string, configArgs: string[] = []): Promise<string> {
  const clone = git.dir("empty");
  const result = await git.run([...configArgs, "clone", url, clone]);
  if (result.exitCode !== 0) throw new Error(`git clone ${url} failed (${result.exitCode}):\n${result.stderr}`);
  if (!result.stderr.includes("You appear to have cloned an empty repository")) throw new Error(`no empty-repository warning:\n${result.stderr}`);
  return clone;
}
