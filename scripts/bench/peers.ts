/**
 * The servers the serve benchmark compares, started as child processes on 127.0.0.1 and always
 * stopped again: C git's `git http-backend` (behind lighttpd, or behind a Bun CGI bridge when
 * lighttpd cannot be installed), dulwich's HTTP server, stategit, and canned bytes.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { GIT_BASE } from "./bridge.ts";
import { run } from "./fixtures.ts";
import type { ExpectedAnswers } from "./load.ts";

/** The agent id both servers serve the benchmark repository under. */
export const AGENT = "bench-agent";
const BRIDGE = join(import.meta.dir, "bridge.ts");
const DULWICH_WEB = join(import.meta.dir, "dulwich-web.py");
const PROFILE_EXIT = join(import.meta.dir, "profile-exit.ts");
const ROOT = resolve(import.meta.dir, "../..");

export interface Peer {
  name: string;
  /** The repository's URL, without credentials: `http://127.0.0.1:PORT/v1/git/bench-agent/state.git`. */
  repoUrl: string;
  /** The same with credentials, for git clients. */
  gitUrl: string;
  /** Headers every load-client request carries (authentication). */
  headers: Record<string, string>;
  /** The server process: its CPU time, with that of the children it reaped, is the server's. */
  process: Subprocess;
}

/** Every child process started, so that all of them are stopped on success, error or signal. */
export class Children {
  private readonly running = new Set<Subprocess>();

  constructor(private readonly logDir: string) {}

  /** Starts `cmd` with stdout and stderr in `{logDir}/{name}.log`. */
  spawn(name: string, cmd: string[], env?: Record<string, string | undefined>): Subprocess {
    const log = Bun.file(join(this.logDir, `${name}.log`));
    const child = Bun.spawn(cmd, { cwd: ROOT, env: env ?? process.env, stdin: "ignore", stdout: log, stderr: log });
    this.running.add(child);
    void child.exited.then(() => this.running.delete(child));
    return child;
  }

  logTail(name: string): string {
    const path = join(this.logDir, `${name}.log`);
    return existsSync(path) ? readFileSync(path, "utf8").split("\n").slice(-15).join("\n") : "";
  }

  /** Stops a child: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(child: Subprocess, graceMs = 3000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await child.exited;
    clearTimeout(timer);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map((child) => this.stop(child)));
  }

  /** For exit paths that cannot wait. */
  killAllNow(): void {
    for (const child of this.running) child.kill("SIGKILL");
  }
}

/**
 * Stops every child and exits on SIGINT, SIGTERM or SIGHUP (status 130), or once the run has taken
 * `minutes` (status 1); `cleanUp` removes what else the run made (temporary files, other processes).
 */
export function stopOnSignalOrTimeout(children: Children, minutes: number, say: (line: string) => void, cleanUp: () => void): void {
  const stop = (why: string, status: number) => {
    say(why);
    children.killAllNow();
    cleanUp();
    process.exit(status);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => stop(`${signal}: stopping servers`, 130));
  setTimeout(() => stop(`still running after ${minutes} minutes: stopping everything`, 1), minutes * 60_000).unref();
}

/** A port nothing listens on now (the kernel's pick for port 0). */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/** Waits until `url` answers with `status`, failing early if `child` exits. */
async function waitReady(children: Children, name: string, child: Subprocess, url: string, status: number, headers: Record<string, string> = {}): Promise<void> {
  const deadline = performance.now() + 30_000;
  let last = "no answer";
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}):\n${children.logTail(name)}`);
    try {
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === status) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await Bun.sleep(100);
  }
  throw new Error(`${name} not ready at ${url} after 30 s (${last}):\n${children.logTail(name)}`);
}

/** Core pinning: `taskset -c CPU` in front of a command, when pinning is on and taskset exists. */
export function pinned(cpu: number | undefined, cmd: string[]): string[] {
  return cpu === undefined ? cmd : ["taskset", "-c", String(cpu), ...cmd];
}

/** lighttpd's path, installing it from apt if missing and possible. */
export function findOrInstallLighttpd(say: (line: string) => void): string | undefined {
  const find = () => Bun.which("lighttpd") ?? (existsSync("/usr/sbin/lighttpd") ? "/usr/sbin/lighttpd" : undefined);
  return find() ?? (installFromApt("lighttpd", say) ? find() : undefined);
}

/** Installs a Debian package (`apt-get update`, then `apt-get install`) when running as root with apt; false when that failed or was impossible. */
function installFromApt(name: string, say: (line: string) => void): boolean {
  if (process.getuid?.() !== 0 || !Bun.which("apt-get")) return false;
  say(`${name} missing: installing it with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const cmd of [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", name]]) {
    const result = Bun.spawnSync(cmd, { env, stdout: "ignore", stderr: "pipe", timeout: 300_000 });
    if (result.exitCode !== 0) {
      say(`${cmd.join(" ")} failed: ${result.stderr.toString().trim().split("\n").at(-1)}`);
      return false;
    }
  }
  return true;
}

export interface GitPeerOptions {
  /** The bare repository to serve. */
  repository: string;
  /** More bare repositories to serve, by agent id. */
  more?: Record<string, string>;
  tmp: string;
  cpu?: number;
  /** Skip lighttpd and use the Bun CGI bridge. */
  forceBridge: boolean;
  say: (line: string) => void;
}

/** C git's smart HTTP: `git http-backend` as CGI behind lighttpd (or the Bun bridge), no authentication. */
export async function startGitPeer(children: Children, options: GitPeerOptions): Promise<Peer> {
  const projectRoot = join(options.tmp, "git-root");
  for (const [agent, repository] of Object.entries({ ...options.more, [AGENT]: options.repository })) {
    const linked = join(projectRoot, agent, "state.git");
    mkdirSync(dirname(linked), { recursive: true });
    symlinkSync(resolve(repository), linked);
  }
  const backend = join(new TextDecoder().decode(run(["git", "--exec-path"])).trim(), "git-http-backend");
  const port = freePort();
  const lighttpd = options.forceBridge ? undefined : findOrInstallLighttpd(options.say);
  let name: string;
  let child: Subprocess;
  if (lighttpd) {
    name = "git http-backend (lighttpd)";
    const config = join(options.tmp, "lighttpd.conf");
    writeFileSync(config, lighttpdConfig({ port, backend, projectRoot, documentRoot: options.tmp, errorLog: join(options.tmp, "lighttpd-error.log") }));
    child = children.spawn("lighttpd", pinned(options.cpu, [lighttpd, "-D", "-f", config]));
  } else {
    name = "git http-backend (Bun CGI bridge)";
    child = children.spawn("lighttpd", pinned(options.cpu, [process.execPath, BRIDGE, "cgi", String(port), backend, projectRoot]));
  }
  const repoUrl = `http://127.0.0.1:${port}${GIT_BASE}/${AGENT}/state.git`;
  await waitReady(children, "lighttpd", child, `${repoUrl}/info/refs?service=git-upload-pack`, 200);
  return { name, repoUrl, gitUrl: repoUrl, headers: {}, process: child };
}

/** gitweb-free lighttpd configuration from git-http-backend(1), "EXAMPLES", bound to loopback. */
function lighttpdConfig(c: { port: number; backend: string; projectRoot: string; documentRoot: string; errorLog: string }): string {
  const quote = (text: string) => JSON.stringify(text);
  return [
    `server.modules = ( "mod_cgi", "mod_alias", "mod_setenv" )`,
    `server.document-root = ${quote(c.documentRoot)}`,
    `server.bind = "127.0.0.1"`,
    `server.port = ${c.port}`,
    `server.errorlog = ${quote(c.errorLog)}`,
    `server.max-keep-alive-requests = 1000000`,
    `server.max-keep-alive-idle = 60`,
    `alias.url = ( ${quote(GIT_BASE)} => ${quote(c.backend)} )`,
    `$HTTP["url"] =~ ${quote(`^${GIT_BASE}/`)} {`,
    `  cgi.assign = ( "" => "" )`,
    `  setenv.set-environment = ( "GIT_PROJECT_ROOT" => ${quote(c.projectRoot)}, "GIT_HTTP_EXPORT_ALL" => "1", "PATH" => ${quote(process.env.PATH ?? "/usr/bin:/bin")} )`,
    `}`,
    ``,
  ].join("\n");
}

export interface StategitPeerOptions {
  tmp: string;
  cpu?: number;
  /** Run dist/stategit instead of `bun run src/cli.ts`. */
  binary: boolean;
  /** Directory for a CPU profile of the server (`bun --cpu-prof`), written when it exits. */
  profileDir?: string;
  /** `--storage URL --database URL`; by default file storage and SQLite in `tmp`. */
  data?: string[];
  /** The log's name in `tmp` (several instances need one each). */
  logName?: string;
  /** More `serve` flags, e.g. `--workers 0`. */
  flags?: string[];
}

/** stategit serving file storage and SQLite in `tmp` (or `data`), with an org `bench` and one API key. */
export async function startStategitPeer(children: Children, options: StategitPeerOptions): Promise<Peer> {
  const binary = join(ROOT, "dist/stategit");
  if (options.binary && !existsSync(binary)) throw new Error(`--binary: ${binary} does not exist (bun run build)`);
  if (options.binary && options.profileDir) throw new Error("--profile needs the sources (no --binary)");
  const admin = options.binary ? [binary] : [process.execPath, join(ROOT, "src/cli.ts")];
  const profile = options.profileDir ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${options.profileDir}`, `--preload=${PROFILE_EXIT}`] : [];
  const cli = options.binary ? admin : [process.execPath, ...profile, join(ROOT, "src/cli.ts")];
  const data = options.data ?? ["--storage", `file:${join(options.tmp, "repos")}`, "--database", `sqlite:${join(options.tmp, "db.sqlite")}`];
  const logName = options.logName ?? "stategit";
  run([...admin, "org", "create", "bench", ...data], { cwd: ROOT });
  const key = new TextDecoder().decode(run([...admin, "key", "create", "bench", ...data], { cwd: ROOT })).trim();
  if (!key || key.includes("\n")) throw new Error(`key create printed ${JSON.stringify(key)}, expected one key`);
  const port = freePort();
  const child = children.spawn(logName, pinned(options.cpu, [...cli, "serve", "--listen", `127.0.0.1:${port}`, ...data, ...(options.flags ?? [])]));
  const base = `http://127.0.0.1:${port}`;
  await waitReady(children, logName, child, `${base}/healthz`, 200);
  const repoUrl = `${base}${GIT_BASE}/${AGENT}/state.git`;
  return {
    name: "stategit",
    repoUrl,
    gitUrl: `http://x:${encodeURIComponent(key)}@127.0.0.1:${port}${GIT_BASE}/${AGENT}/state.git`,
    headers: { Authorization: `Basic ${btoa(`x:${key}`)}` },
    process: child,
  };
}

/** The same server's view of another agent's repository. */
export function peerRepository(peer: Peer, agent: string): Peer {
  const swap = (url: string) => url.replace(`/${AGENT}/state.git`, `/${agent}/state.git`);
  return { ...peer, repoUrl: swap(peer.repoUrl), gitUrl: swap(peer.gitUrl) };
}

const SYSTEM_PYTHON = "/usr/bin/python3";

export interface DulwichPeerOptions {
  /** Directory of bare repositories, served by path: `{root}/bench-agent/state.git` is the benchmark's. */
  root: string;
  cpu?: number;
  say: (line: string) => void;
}

/** dulwich's smart HTTP server (dulwich.web, from apt's python3-dulwich), no authentication. */
export async function startDulwichPeer(children: Children, options: DulwichPeerOptions): Promise<Peer> {
  const hasDulwich = () => Bun.spawnSync([SYSTEM_PYTHON, "-c", "import dulwich.web"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
  if (!hasDulwich() && !(installFromApt("python3-dulwich", options.say) && hasDulwich())) {
    throw new Error(`dulwich is missing: apt-get install python3-dulwich (for ${SYSTEM_PYTHON})`);
  }
  const version = new TextDecoder().decode(run([SYSTEM_PYTHON, "-c", "import dulwich; print('.'.join(map(str, dulwich.__version__)))"])).trim();
  const port = freePort();
  const child = children.spawn("dulwich", pinned(options.cpu, [SYSTEM_PYTHON, DULWICH_WEB, options.root, String(port)]));
  const repoUrl = `http://127.0.0.1:${port}/${AGENT}/state.git`;
  await waitReady(children, "dulwich", child, `${repoUrl}/info/refs?service=git-upload-pack`, 200);
  return { name: `dulwich ${version}`, repoUrl, gitUrl: repoUrl, headers: {}, process: child };
}

/** A server answering the up-to-date fetch with fixed bytes: what the load client can do at best. */
export async function startCannedPeer(children: Children, answers: ExpectedAnswers, tmp: string, cpu?: number): Promise<Peer> {
  const port = freePort();
  const files = [join(tmp, `canned-advertisement-${port}`), join(tmp, `canned-ls-refs-${port}`)];
  writeFileSync(files[0], answers.advertisement);
  writeFileSync(files[1], answers.lsRefs ?? new Uint8Array());
  const child = children.spawn(`canned-${port}`, pinned(cpu, [process.execPath, BRIDGE, "canned", String(port), ...files]));
  const repoUrl = `http://127.0.0.1:${port}${GIT_BASE}/${AGENT}/state.git`;
  await waitReady(children, `canned-${port}`, child, `${repoUrl}/info/refs`, 200);
  return { name: "canned bytes (Bun.serve)", repoUrl, gitUrl: repoUrl, headers: {}, process: child };
}
