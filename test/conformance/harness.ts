/**
 * The conformance harness: the real stategit server as a child process (from the sources or the
 * compiled binary), administered with its own commands, and the real git client driving it.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { concatBytes } from "../../src/git/bytes.ts";
import { GIT_ENV, tempDir } from "../support/git.ts";

export const ROOT = resolve(import.meta.dir, "../..");
export const BINARY = join(ROOT, "dist/stategit");

export type Variant = "sources" | "binary";

/** The protocol versions every fetch-side case runs under (push always speaks v0 on the wire). */
export const PROTOCOLS = [0, 2] as const;
export type ProtocolVersion = (typeof PROTOCOLS)[number];

const STARTUP_DEADLINE_MS = 30_000;

/** Per test and hook: cases drive many git processes, and a server start may build the binary. */
export const CASE_TIMEOUT_MS = 90_000;

function stategitCommand(variant: Variant): string[] {
  // Bun reads the JSX settings of the web page's .tsx files from the working directory's tsconfig, and servers run elsewhere.
  return variant === "sources" ? ["bun", "run", join(ROOT, "src/cli.ts")] : [BINARY];
}

/**
 * CI runs `bun run build` before `bun test`, so there a missing binary is a broken pipeline and
 * fails loudly; elsewhere it is built once.
 */
export function ensureBinary(): void {
  if (existsSync(BINARY)) return;
  if (process.env.CI) throw new Error(`${BINARY} is missing: CI must run \`bun run build\` before \`bun test\``);
  const build = Bun.spawnSync(["bun", "run", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`bun run build failed:\n${build.stderr.toString()}`);
}

export interface ProcessResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

async function runProcess(command: string[], options: { cwd?: string; env?: Record<string, string | undefined>; input?: string | Uint8Array } = {}): Promise<ProcessResult> {
  const proc = Bun.spawn(command, {
    cwd: options.cwd,
    env: options.env,
    stdin: options.input === undefined ? "ignore" : new Blob([options.input as Uint8Array<ArrayBuffer>]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, exitCode };
}

export interface ServerOptions {
  variant: Variant;
  /** More `stategit serve` flags, such as --allow-force-push. */
  flags?: readonly string[];
  /** `--storage` and `--database` URLs; by default file storage and SQLite in the server's own directory. */
  storage?: string;
  database?: string;
  /** Added to the server's environment (and its administration commands'), e.g. STORAGE_EMULATOR_HOST. */
  env?: Record<string, string>;
}

/** What a server runs on and with: shared by every instance started with `another()`. */
interface ServerSetup {
  readonly variant: Variant;
  readonly flags: readonly string[];
  /** `--storage URL --database URL` */
  readonly data: readonly string[];
  readonly env: Record<string, string | undefined>;
}

/**
 * One `stategit serve` process on a free port, by default with its own file storage and SQLite
 * database, an organisation and a key; `another()` starts more instances on the same storage and
 * database. Its output goes to a file (never a pipe nobody drains).
 */
export class StategitServer {
  readonly org = "conformance";
  private agentCount = 0;

  private constructor(
    private readonly setup: ServerSetup,
    private readonly root: string,
    private readonly cleanup: () => void,
    private process: Bun.Subprocess,
    private address: string,
    readonly key: string,
  ) {}

  static async start(options: ServerOptions): Promise<StategitServer> {
    if (options.variant === "binary") ensureBinary();
    const { path: root, cleanup } = tempDir("stategit-conformance-");
    const setup: ServerSetup = {
      variant: options.variant,
      flags: options.flags ?? [],
      data: ["--storage", options.storage ?? `file:${join(root, "repos")}`, "--database", options.database ?? `sqlite:${join(root, "db.sqlite")}`],
      env: { ...process.env, ...options.env },
    };
    try {
      await runAdmin(setup, root, ["org", "create", "conformance"]);
      const key = (await runAdmin(setup, root, ["key", "create", "conformance"])).stdout.trim();
      const { process, origin } = await launch(setup, root, "0");
      return new StategitServer(setup, root, cleanup, process, origin, key);
    } catch (error) {
      cleanup();
      throw error;
    }
  }

  /** Another instance on the same storage and database, flags and key, with a directory (and log) of its own. */
  async another(): Promise<StategitServer> {
    const { path: root, cleanup } = tempDir("stategit-conformance-");
    try {
      const { process, origin } = await launch(this.setup, root, "0");
      return new StategitServer(this.setup, root, cleanup, process, origin, this.key);
    } catch (error) {
      cleanup();
      throw error;
    }
  }

  get variant(): Variant {
    return this.setup.variant;
  }

  /** `http://127.0.0.1:PORT`; restarts keep the port. */
  get origin(): string {
    return this.address;
  }

  /** The server process's id. */
  get pid(): number {
    return this.process.pid;
  }

  /**
   * Stops the process with `signal` (SIGTERM: drain and exit) and starts a new one on the same
   * port, storage and database; returns the old process's exit status (null when a signal ended it).
   */
  async restart(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<number | null> {
    this.process.kill(signal);
    const status = await this.process.exited;
    const { process, origin } = await launch(this.setup, this.root, new URL(this.address).port);
    this.process = process;
    this.address = origin;
    return status;
  }

  /** Runs an administration command against this server's storage and database; throws on failure. */
  admin(args: string[]): Promise<ProcessResult> {
    return runAdmin(this.setup, this.root, args);
  }
  /** Creates `org` (if new) and returns a new key for it. */
  async newKey(org = this.org): Promise<string> {
    await this.admin(["org", "create", org]);
    return (await this.admin(["key", "create", org])).stdout.trim();
  }

  /** A fresh agent id: every case gets a repository nobody wrote yet. */
  newAgent(prefix = "agent"): string {
    return `${prefix}-${++this.agentCount}`;
  }

  /**
   * The clone URL of an agent's memory, or with `repository` of a shared repository attached to
   * it, with the key as Basic credentials (user `letta`, as Letta's client).
   */
  url(agent: string, options: { key?: string; base?: string; repository?: string } = {}): string {
    const { host } = new URL(this.origin);
    const path = options.repository === undefined ? "state.git" : `repositories/${options.repository}.git`;
    return `http://letta:${options.key ?? this.key}@${host}${options.base ?? "/v1/git"}/${agent}/${path}`;
  }

  /** The same URL without credentials, for requests made with fetch(). */
  plainUrl(agent: string, base = "/v1/git"): string {
    return `${this.origin}${base}/${agent}/state.git`;
  }

  /** The server's output so far: attached to failures. */
  log(): string {
    return readFileSync(logPathOf(this.root), "utf8");
  }

  async stop(): Promise<void> {
    this.process.kill();
    await this.process.exited;
    this.cleanup();
  }
}

function logPathOf(root: string): string {
  return join(root, "server.log");
}

/** Starts `stategit serve` on `port` (0: a free one); its output is appended to the root's server.log. */
async function launch(setup: ServerSetup, root: string, port: string): Promise<{ process: Bun.Subprocess; origin: string }> {
  const logPath = logPathOf(root);
  const log = openSync(logPath, "a");
  const logStart = statSync(logPath).size;
  const proc = Bun.spawn([...stategitCommand(setup.variant), "serve", "--listen", `127.0.0.1:${port}`, ...setup.data, ...setup.flags], {
    cwd: root,
    env: setup.env,
    stdin: "ignore",
    stdout: log,
    stderr: log,
  });
  closeSync(log);
  try {
    return { process: proc, origin: await waitForListening(proc, logPath, logStart) };
  } catch (error) {
    proc.kill();
    await proc.exited;
    throw error;
  }
}

async function runAdmin(setup: ServerSetup, cwd: string, args: string[]): Promise<ProcessResult> {
  const result = await runProcess([...stategitCommand(setup.variant), ...args, ...setup.data], { cwd, env: setup.env });
  if (result.exitCode !== 0) throw new Error(`stategit ${args.join(" ")} failed (${result.exitCode}): ${result.stderr}`);
  return result;
}

/** Waits for the `HOST:PORT` the server prints once it listens, then for /healthz. */
async function waitForListening(proc: Bun.Subprocess, logPath: string, logStart: number): Promise<string> {
  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  for (;;) {
    const log = readFileSync(logPath).subarray(logStart).toString("utf8");
    // The last address with a real port: a server may echo its configured `:0` first.
    const address = [...log.matchAll(/\b(127\.0\.0\.1|localhost):(\d{1,5})\b/g)].filter((match) => match[2] !== "0").at(-1);
    if (address) {
      const origin = `http://${address[1]}:${address[2]}`;
      const health = await fetch(`${origin}/healthz`).catch(() => undefined);
      if (health?.ok) return origin;
    }
    if (proc.exitCode !== null) throw new Error(`stategit serve exited with ${proc.exitCode} before listening:\n${log}`);
    if (Date.now() > deadline) throw new Error(`stategit serve printed no listening address within ${STARTUP_DEADLINE_MS} ms:\n${log}`);
    await Bun.sleep(20);
  }
}

export interface GitRunOptions {
  cwd?: string;
  env?: Record<string, string>;
  input?: string | Uint8Array;
}

/** What a traced git run recorded: GIT_TRACE_PACKET and GIT_TRACE_CURL (headers only). */
export interface GitTrace {
  packets: string;
  curl: string;
}

/**
 * The real git client under one protocol version (`-c protocol.version=N` on every run; git
 * hands it to its child processes, the lazy fetches of a partial clone included).
 */
export class GitClient {
  private dirCount = 0;

  constructor(
    readonly protocol: ProtocolVersion,
    private readonly scratch: string,
  ) {}

  run(args: string[], options: GitRunOptions = {}): Promise<ProcessResult> {
    return runProcess(["git", "-c", `protocol.version=${this.protocol}`, ...args], {
      cwd: options.cwd,
      env: { ...GIT_ENV, ...options.env },
      input: options.input,
    });
  }

  /** Runs git, fails with its stderr on a non-zero exit, returns stdout trimmed. */
  async ok(args: string[], options: GitRunOptions = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed (${result.exitCode}):\n${result.stderr}`);
    return result.stdout.trim();
  }

  /** Runs git, expecting it to fail. */
  async fails(args: string[], options: GitRunOptions = {}): Promise<ProcessResult> {
    const result = await this.run(args, options);
    if (result.exitCode === 0) throw new Error(`git ${args.join(" ")} succeeded, expected a failure:\n${result.stderr}`);
    return result;
  }

  /** Runs git with packet and curl tracing; the result is returned whatever the exit status. */
  async traced(args: string[], options: GitRunOptions = {}): Promise<ProcessResult & GitTrace> {
    const base = this.dir("trace");
    const packets = `${base}.packet`;
    const curl = `${base}.curl`;
    const env = { ...options.env, GIT_TRACE_PACKET: packets, GIT_TRACE_CURL: curl, GIT_TRACE_CURL_NO_DATA: "1" };
    const result = await this.run(args, { ...options, env });
    const read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "");
    return { ...result, packets: read(packets), curl: read(curl) };
  }

  /** A new path under the scratch directory (not created). */
  dir(name: string): string {
    return join(this.scratch, `${name}-${++this.dirCount}`);
  }

  /** `git fsck --full --strict`: every case ends with it on the client side. */
  async fsck(repo: string): Promise<void> {
    await this.ok(["-C", repo, "fsck", "--full", "--strict", "--no-progress"]);
  }

  /** `git rev-parse` of one revision in `repo`. */
  revParse(repo: string, revision: string): Promise<string> {
    return this.ok(["-C", repo, "rev-parse", "--verify", "--quiet", revision]);
  }

  /** The remote's refs as a map name → id (ls-remote, HEAD and peeled lines included). */
  async lsRemote(url: string, args: string[] = []): Promise<Map<string, string>> {
    return parseRefLines(await this.ok(["ls-remote", ...args, url]));
  }
}

/** `OID<TAB>NAME` lines (ls-remote, show-ref with the separator normalised) as a map. */
export function parseRefLines(text: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([0-9a-f]{40})[\t ](\S+)$/.exec(line);
    if (match) refs.set(match[2], match[1]);
  }
  return refs;
}

/** Writes files (creating their directories) under `dir`. */
export function writeFiles(dir: string, files: Record<string, string | Uint8Array>): void {
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
}

/** Writes files, stages everything and commits; returns the new commit id. */
export async function commitFiles(client: GitClient, repo: string, files: Record<string, string | Uint8Array>, message: string, date?: number): Promise<string> {
  writeFiles(repo, files);
  const env: Record<string, string> = date === undefined ? {} : { GIT_AUTHOR_DATE: `${date} +0000`, GIT_COMMITTER_DATE: `${date} +0000` };
  await client.ok(["-C", repo, "add", "-A"]);
  await client.ok(["-C", repo, "commit", "-q", "-m", message], { env });
  return client.revParse(repo, "HEAD");
}

/** A linear run of commits for `git fast-import`, each changing one small file. */
export interface HistorySpec {
  ref: string;
  count: number;
  /** Where the first commit starts: a ref or id already in the repository; none for a root. */
  from?: string;
  /** Committer time of the first commit; each next one is a day later. */
  startTime: number;
  /** Distinguishes the files and messages of different runs. */
  label: string;
  /** Also create a lightweight tag `{label}-{i}` on every commit. */
  tagEach?: boolean;
}

const DAY = 86_400;

/** The fast-import stream of one history; commits are marked from `markBase + 1`. */
export function historyStream(spec: HistorySpec, markBase = 0): string {
  const parts: string[] = [];
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  for (let i = 1; i <= spec.count; i++) {
    const mark = markBase + i;
    const time = spec.startTime + (i - 1) * DAY;
    parts.push(`commit ${spec.ref}\nmark :${mark}\n`);
    parts.push(`author Test Author <author@example.com> ${time} +0000\ncommitter Test Committer <committer@example.com> ${time} +0000\n`);
    parts.push(data(`${spec.label} ${i}\n`));
    if (i === 1 && spec.from) parts.push(`from ${spec.from}\n`);
    parts.push(`M 100644 inline ${spec.label}/log.md\n${data(`${spec.label} entry ${i}\n`)}`);
    parts.push(`M 100644 inline ${spec.label}/entries/${i % 7}.md\n${data(`${spec.label}: entry ${i} of ${spec.count}\n`)}\n`);
    if (spec.tagEach) parts.push(`reset refs/tags/${spec.label}-${i}\nfrom :${mark}\n\n`);
  }
  return parts.join("");
}

/** Imports `stream` into `repo` with git fast-import. */
export async function fastImport(client: GitClient, repo: string, stream: string): Promise<void> {
  await client.ok(["-C", repo, "fast-import", "--quiet"], { input: stream });
}

/** Count of POST requests a traced git run made to `service` (from GIT_TRACE_CURL). */
export function countPosts(trace: GitTrace, service: "git-upload-pack" | "git-receive-pack"): number {
  return trace.curl.split("\n").filter((line) => line.includes("Send header: POST ") && line.includes(`/${service} `)).length;
}

/** The request headers a traced git run sent, one string per header line. */
export function sentHeaders(trace: GitTrace): string[] {
  return trace.curl
    .split("\n")
    .map((line) => /=> Send header: (.*)$/.exec(line)?.[1])
    .filter((header): header is string => header !== undefined);
}

export interface SuiteContext {
  server: StategitServer;
  git: GitClient;
  /** A server started with --allow-force-push, started on first use and shared by the block. */
  forcePushServer(): Promise<StategitServer>;
}

export interface ConformanceCase {
  name: string;
  /** Part of the representative subset run against the compiled binary too. */
  binary?: boolean;
  run(context: SuiteContext): Promise<void>;
}

/**
 * Registers `cases` under each protocol version against one server per describe block (a fresh
 * agent per case). A failing case's error carries the server's output.
 */
export function defineSuite(variant: Variant, cases: readonly ConformanceCase[], protocols: readonly ProtocolVersion[] = PROTOCOLS): void {
  setDefaultTimeout(CASE_TIMEOUT_MS);
  describe.each([...protocols])(`${variant}, protocol.version=%d`, (protocol) => {
    let server: StategitServer | undefined;
    let forcePush: Promise<StategitServer> | undefined;
    let scratch: { path: string; cleanup: () => void } | undefined;
    let context: SuiteContext | undefined;
    beforeAll(async () => {
      scratch = tempDir("stategit-conformance-client-");
      server = await StategitServer.start({ variant });
      const started = server;
      context = {
        server: started,
        git: new GitClient(protocol, scratch.path),
        forcePushServer: () => (forcePush ??= StategitServer.start({ variant, flags: ["--allow-force-push"] })),
      };
    });
    afterAll(async () => {
      await Promise.all([server?.stop(), forcePush?.then((started) => started.stop())]);
      scratch?.cleanup();
    });
    for (const conformanceCase of cases) {
      test(conformanceCase.name, async () => {
        if (!context) throw new Error("the server did not start");
        try {
          await conformanceCase.run(context);
        } catch (error) {
          const log = context.server.log().trim();
          if (error instanceof Error && log) error.message += `\n--- server output ---\n${log.split("\n").slice(-40).join("\n")}`;
          throw error;
        }
      });
    }
  });
}

export { expect };

export type Packet = Uint8Array | "flush" | "delim" | "response-end";

/**
 * Splits pkt-lines (gitprotocol-common, "pkt-line Format"), independently of the server's own
 * reader. Throws on anything malformed: the server must never send it.
 */
export function parsePktLines(bytes: Uint8Array): Packet[] {
  const packets: Packet[] = [];
  const special: Record<number, Packet> = { 0: "flush", 1: "delim", 2: "response-end" };
  let offset = 0;
  while (offset < bytes.length) {
    const header = new TextDecoder().decode(bytes.subarray(offset, offset + 4));
    if (!/^[0-9a-f]{4}$/.test(header)) throw new Error(`bad pkt-line length ${JSON.stringify(header)} at ${offset}`);
    const length = parseInt(header, 16);
    if (length < 4) {
      if (length === 3) throw new Error(`bad pkt-line length 3 at ${offset}`);
      packets.push(special[length]);
      offset += 4;
      continue;
    }
    if (offset + length > bytes.length) throw new Error(`pkt-line at ${offset} runs past the end`);
    packets.push(bytes.subarray(offset + 4, offset + length));
    offset += length;
  }
  return packets;
}

/** A data packet as text (latin1, so a NUL stays visible as "\0"). */
export function packetText(packet: Packet): string {
  return typeof packet === "string" ? `<${packet}>` : new TextDecoder("latin1").decode(packet);
}

/** Encodes text (or bytes) as one pkt-line. */
export function pktLine(payload: string | Uint8Array): Uint8Array {
  const data = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const out = new Uint8Array(data.length + 4);
  out.set(new TextEncoder().encode((data.length + 4).toString(16).padStart(4, "0")));
  out.set(data, 4);
  return out;
}

export const FLUSH = new TextEncoder().encode("0000");

export { concatBytes };

/** Demultiplexes a side-band-64k stream (up to its flush) into its three bands. */
export function demultiplex(packets: readonly Packet[]): { data: Uint8Array; progress: string; error: string } {
  const data: Uint8Array[] = [];
  let progress = "";
  let error = "";
  for (const packet of packets) {
    if (typeof packet === "string") break;
    const payload = packet.subarray(1);
    if (packet[0] === 1) data.push(payload);
    else if (packet[0] === 2) progress += new TextDecoder().decode(payload);
    else if (packet[0] === 3) error += new TextDecoder().decode(payload);
    else throw new Error(`bad side-band ${packet[0]}`);
  }
  return { data: concatBytes(data), progress, error };
}
