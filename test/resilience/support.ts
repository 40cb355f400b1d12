/**
 * Shared pieces of the resilience tests: where a group of `stategit serve` instances keeps its
 * data (file + SQLite, or the GCS emulator + PostgreSQL), git clients that push a stream of
 * commits and record what each push was told, and the checks that compare those records with the
 * repository's final state.
 */
import { afterAll, beforeAll, expect } from "bun:test";
import { GitClient, StategitServer, parseRefLines, type ProcessResult, type ServerOptions } from "../conformance/harness.ts";
import { DATABASE_KINDS } from "../db/databases.ts";
import { startGcsEmulator, type GcsEmulator } from "../support/gcs-emulator.ts";
import { tempDir } from "../support/git.ts";

const BUCKET = "stategit-resilience";

/** One group's storage and database, made before its first instance starts and removed after the last stops. */
export interface Deployment {
  server: Pick<ServerOptions, "storage" | "database" | "env">;
  /** Present on the GCS backend: its faults and statistics. */
  emulator?: GcsEmulator;
  cleanup(): Promise<void>;
}

export interface Backend {
  name: string;
  /** Why this backend is skipped here, if it is. */
  skip: string | undefined;
  deploy(): Promise<Deployment>;
}

const postgres = DATABASE_KINDS.find((kind) => kind.name === "postgres")!;

/** Why the PostgreSQL tests are skipped here (never in CI: test/db/databases.ts fails there instead). */
export const POSTGRES_SKIP = postgres.skip;

/** stategit's defaults: file storage and SQLite, here in the first instance's directory. */
export const FILE_AND_SQLITE: Backend = {
  name: "file + SQLite",
  skip: undefined,
  deploy: async () => ({ server: {}, cleanup: async () => {} }),
};

/** A bucket of a new emulator (in this process, under a fresh prefix) with `database`, removed with it. */
async function onEmulator(database: { url: string; cleanup(): Promise<void> }): Promise<Deployment> {
  const emulator = await startGcsEmulator({ buckets: [BUCKET] }).catch(async (error: unknown) => {
    await database.cleanup();
    throw error;
  });
  return {
    server: { storage: `gs://${BUCKET}/${crypto.randomUUID()}`, database: database.url, env: { STORAGE_EMULATOR_HOST: emulator.url } },
    emulator,
    cleanup: async () => {
      await emulator.stop();
      await database.cleanup();
    },
  };
}

/** Production's shape: a bucket (the emulator) and PostgreSQL, a fresh schema per deployment. */
export const GCS_AND_POSTGRES: Backend = {
  name: "GCS emulator + PostgreSQL",
  skip: POSTGRES_SKIP,
  deploy: async () => onEmulator(await postgres.create()),
};

/** The GCS emulator with SQLite, for the storage fault tests that need no PostgreSQL. */
export async function gcsAndSqlite(): Promise<Deployment> {
  const dir = tempDir("stategit-resilience-db-");
  return onEmulator({ url: `sqlite:${dir.path}/db.sqlite`, cleanup: async () => dir.cleanup() });
}

/**
 * File storage and PostgreSQL, the server's connections named `applicationName` (a startup
 * parameter taken from the URL), so that a test can find and terminate them.
 */
export async function fileAndPostgres(applicationName: string): Promise<Deployment> {
  const database = await postgres.create();
  const url = new URL(database.url);
  url.searchParams.set("application_name", applicationName);
  return { server: { database: url.toString() }, cleanup: () => database.cleanup() };
}

/** `count` instances on one deployment, the first owning the organisation and key. */
export async function startInstances(deployment: Deployment, count: number): Promise<StategitServer[]> {
  const first = await StategitServer.start({ variant: "sources", ...deployment.server });
  const instances = [first];
  try {
    for (let i = 1; i < count; i++) instances.push(await first.another());
  } catch (error) {
    await stopInstances(instances);
    throw error;
  }
  return instances;
}

/** Stops the instances, the first (which owns the data directory of file + SQLite) last. */
export async function stopInstances(instances: readonly StategitServer[]): Promise<void> {
  await Promise.all(instances.slice(1).map((instance) => instance.stop()));
  await instances[0]?.stop();
}

/** What the tests of one describe share: a deployment, its running instances, and a git client with a scratch directory. */
export class DeploymentUnderTest {
  deployment!: Deployment;
  instances: StategitServer[] = [];
  git!: GitClient;
}

/**
 * Inside a describe: a new deployment of `backend` with `count` instances (after `prepare`, e.g.
 * the emulator's faults) and a git client on a scratch directory, made before its tests and
 * stopped and removed after them.
 */
export function deploymentPerDescribe(backend: Backend, count: number, prepare?: (deployment: Deployment) => void): DeploymentUnderTest {
  const running = new DeploymentUnderTest();
  let scratch: { path: string; cleanup: () => void } | undefined;
  let deployment: Deployment | undefined;
  beforeAll(async () => {
    scratch = tempDir("stategit-instances-");
    running.git = new GitClient(2, scratch.path);
    deployment = running.deployment = await backend.deploy();
    prepare?.(deployment);
    running.instances = await startInstances(deployment, count);
  });
  afterAll(async () => {
    await stopInstances(running.instances);
    await deployment?.cleanup();
    scratch?.cleanup();
  });
  return running;
}

/**
 * What a push was told about one ref: `ok` (accepted), `refused` (a clean `ng` or git's own
 * refusal, with a reason), or `error` (anything else: the connection failed, the server answered
 * an error; the update may or may not have landed).
 */
export type RefVerdict = "ok" | "refused" | "error";

export interface RefOutcome {
  ref: string;
  commit: string;
  verdict: RefVerdict;
  /** git's porcelain summary, or its first error line when there was none. */
  detail: string;
}

/** Reasons of a clean refusal: git's own (client side) and stategit's `ng` reasons for a lost race. */
const CLEAN_REFUSALS = ["fetch first", "non-fast-forward", "stale info", "failed to lock", "atomic push failure"];

/**
 * The verdict on each of `refs` from `git push --porcelain` (git-push(1), "OUTPUT": one
 * `FLAG<TAB>FROM:TO<TAB>SUMMARY` line per ref). A ref without a line, or a failed push that
 * printed no clean refusal for it, is an error.
 */
export function pushVerdicts(result: ProcessResult, commit: string, refs: readonly string[]): RefOutcome[] {
  const lines = new Map<string, { flag: string; summary: string }>();
  for (const line of result.stdout.split("\n")) {
    const match = /^(.)\t[^\t]*:([^\t]+)\t(.*)$/.exec(line);
    if (match) lines.set(match[2], { flag: match[1], summary: match[3] });
  }
  return refs.map((ref) => {
    const line = lines.get(ref);
    if (!line) return { ref, commit, verdict: "error", detail: failureLine(result) ?? `exit ${result.exitCode}, no status for ${ref}` };
    if (line.flag === "!") {
      const clean = CLEAN_REFUSALS.some((reason) => line.summary.includes(`(${reason})`));
      return { ref, commit, verdict: clean ? "refused" : "error", detail: line.summary };
    }
    return { ref, commit, verdict: "ok", detail: line.summary };
  });
}

/** The first `error:` or `fatal:` line git printed. */
function failureLine(result: ProcessResult): string | undefined {
  return result.stderr.split("\n").find((line) => /^(error|fatal): /.test(line));
}

/** Counts of verdicts per kind of ref and the distinct reasons of the others, for the test's output. */
export function summarise(outcomes: readonly RefOutcome[]): string {
  const count = (refs: RefOutcome[]) =>
    (["ok", "refused", "error"] as const)
      .map((verdict) => [verdict, refs.filter((outcome) => outcome.verdict === verdict).length] as const)
      .filter(([, n]) => n > 0)
      .map(([verdict, n]) => `${n} ${verdict}`)
      .join(", ");
  const main = outcomes.filter((outcome) => outcome.ref === "refs/heads/main");
  const tags = outcomes.filter((outcome) => outcome.ref !== "refs/heads/main");
  const reasons = [...new Set(outcomes.filter((outcome) => outcome.verdict !== "ok").map((outcome) => outcome.detail))];
  return `main: ${count(main)}; tags: ${count(tags)}; reasons: ${reasons.join(" | ")}`;
}

/** The seed in the environment variable `name`, or a new one; printed, so that a run can be replayed. */
export function seedFromEnvironment(name: string): number {
  const given = process.env[name];
  const seed = given ? Number(given) : Math.floor(Math.random() * 2 ** 31);
  console.log(`${name}=${seed} (set it to replay this run)`);
  return seed;
}

/**
 * A git client that pushes a stream of commits to `main`, each on top of `main` as fetched just
 * before (through the same instance), each with a tag of its own in the same push; it records
 * every ref's outcome.
 */
export class PushingClient {
  readonly outcomes: RefOutcome[] = [];
  /** A push is running. */
  pushing = false;
  private attempts = 0;

  private constructor(
    private readonly git: GitClient,
    readonly name: string,
    private readonly repo: string,
  ) {}

  static async create(git: GitClient, name: string): Promise<PushingClient> {
    const repo = git.dir(name);
    await git.ok(["init", "-q", "-b", "main", repo]);
    return new PushingClient(git, name, repo);
  }

  /**
   * One round: fetch `main` from `url`, commit a new file on it, push `main` and a new tag. Returns
   * false when the fetch failed (nothing was pushed); push outcomes are recorded.
   */
  async round(url: string): Promise<boolean> {
    const attempt = ++this.attempts;
    const fetched = await this.git.run(["-C", this.repo, "fetch", "-q", url, "+refs/heads/main:refs/remotes/origin/main"]);
    if (fetched.exitCode !== 0) return false;
    await this.git.ok(["-C", this.repo, "reset", "-q", "--hard", "refs/remotes/origin/main"]);
    const file = `notes/${this.name}-${attempt}.md`;
    await Bun.write(`${this.repo}/${file}`, memoryNote(`${this.name}-${attempt}`, `${this.name}, round ${attempt}`));
    await this.git.ok(["-C", this.repo, "add", file]);
    await this.git.ok(["-C", this.repo, "commit", "-q", "-m", `${this.name} round ${attempt}`]);
    await this.pushHead(url, `refs/tags/${this.name}-${attempt}`);
    return true;
  }

  /** Pushes HEAD to main and to `tag` in one push, recording both outcomes. */
  private async pushHead(url: string, tag: string): Promise<void> {
    const commit = await this.git.revParse(this.repo, "HEAD");
    const refs = ["refs/heads/main", tag];
    this.pushing = true;
    const result = await this.git.run(["-C", this.repo, "push", "--porcelain", url, ...refs.map((ref) => `HEAD:${ref}`)]).finally(() => {
      this.pushing = false;
    });
    this.outcomes.push(...pushVerdicts(result, commit, refs));
  }
}

/**
 * A Markdown file with v2 front matter: valid under both of Letta's policies (a shared
 * repository's checks every `.md`; an agent's v1 memory leaves files outside `system/` alone).
 */
export function memoryNote(name: string, body: string): string {
  return `---\nname: ${name}\ndescription: ${name}, written by a test client\n---\n${body}\n`;
}

/** Makes `main` exist, so every client's first round has something to fetch. */
export async function seedMain(git: GitClient, url: string): Promise<string> {
  const repo = git.dir("seed");
  await git.ok(["init", "-q", "-b", "main", repo]);
  await Bun.write(`${repo}/README.md`, memoryNote("readme", "shared memory"));
  await git.ok(["-C", repo, "add", "README.md"]);
  await git.ok(["-C", repo, "commit", "-q", "-m", "seed"]);
  await git.ok(["-C", repo, "push", "-q", url, "main"]);
  return git.revParse(repo, "HEAD");
}

export interface FinalState {
  refs: Map<string, string>;
  /** Every commit of main's history. */
  history: Set<string>;
  clone: string;
}

/** A fresh clone through `url`, checked by `git fsck --full`, with the refs and main's history. */
export async function finalState(git: GitClient, url: string): Promise<FinalState> {
  const clone = git.dir("final");
  await git.ok(["clone", "-q", "--mirror", url, clone]);
  await git.ok(["-C", clone, "fsck", "--full", "--strict", "--no-progress"]);
  const refs = parseRefLines(await git.ok(["-C", clone, "show-ref"]));
  const history = new Set((await git.ok(["-C", clone, "rev-list", "refs/heads/main"])).split("\n"));
  return { refs, history, clone };
}

/**
 * Compares what the clients were told with the final state, exactly: every acknowledged update is
 * there (main's commit in main's history, a tag with its commit), no refused one is, and nothing
 * else is (main's history holds only the seed and the commits whose push to main was
 * acknowledged or ended in an error; the tags are only those). `allowErrors` false: no push may
 * have ended in an error.
 */
export function expectOutcomesHonoured(outcomes: readonly RefOutcome[], state: FinalState, seed: string, allowErrors: boolean): void {
  const errors = outcomes.filter((outcome) => outcome.verdict === "error");
  if (!allowErrors) expect(errors.map((outcome) => `${outcome.ref}: ${outcome.detail}`)).toEqual([]);
  const mains = outcomes.filter((outcome) => outcome.ref === "refs/heads/main");
  const tags = outcomes.filter((outcome) => outcome.ref.startsWith("refs/tags/"));
  const problems: string[] = [];
  for (const outcome of mains) {
    const landed = state.history.has(outcome.commit);
    if (outcome.verdict === "ok" && !landed) problems.push(`acknowledged push of ${outcome.commit} to main is not in main's history`);
    if (outcome.verdict === "refused" && landed) problems.push(`refused push of ${outcome.commit} to main (${outcome.detail}) is in main's history`);
  }
  const maybeInMain = new Set([seed, ...mains.filter((outcome) => outcome.verdict !== "refused").map((outcome) => outcome.commit)]);
  for (const commit of state.history) if (!maybeInMain.has(commit)) problems.push(`main's history holds ${commit}, which no push to main could have put there`);
  for (const outcome of tags) {
    const value = state.refs.get(outcome.ref);
    if (outcome.verdict === "ok" && value !== outcome.commit) problems.push(`acknowledged ${outcome.ref} is ${value ?? "missing"}, expected ${outcome.commit}`);
    if (outcome.verdict === "refused" && value !== undefined) problems.push(`refused ${outcome.ref} exists`);
    if (outcome.verdict === "error" && value !== undefined && value !== outcome.commit) problems.push(`${outcome.ref} is ${value}, pushed ${outcome.commit}`);
  }
  const pushedTags = new Set(tags.map((outcome) => outcome.ref));
  for (const ref of state.refs.keys()) {
    if (ref !== "refs/heads/main" && !pushedTags.has(ref)) problems.push(`unexpected ref ${ref}`);
  }
  expect(problems).toEqual([]);
}
