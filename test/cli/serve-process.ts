/** `stategit serve` as a child process (sources or binary) on a free port, for the life-cycle tests. */
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../support/git.ts";
import type { Runner } from "./runners.ts";

const STARTUP_DEADLINE_MS = 30_000;

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export class ServeProcess {
  private constructor(
    readonly runner: Runner,
    readonly root: string,
    readonly key: string,
    private readonly cleanup: () => void,
    private child: Bun.Subprocess<"ignore", "pipe", number>,
    private address: string,
  ) {}

  /** An organisation `acme`, one key, then the server with `flags`. */
  static async start(runner: Runner, flags: readonly string[] = []): Promise<ServeProcess> {
    const { path: root, cleanup } = tempDir("stategit-serve-");
    try {
      admin(runner, root, ["org", "create", "acme"]);
      const key = admin(runner, root, ["key", "create", "acme"]).trim();
      const { child, url } = await launch(runner, root, flags);
      return new ServeProcess(runner, root, key, cleanup, child, url);
    } catch (error) {
      cleanup();
      throw error;
    }
  }

  /** `http(s)://127.0.0.1:PORT`; a restart changes the port. */
  get url(): string {
    return this.address;
  }

  get exited(): Promise<number> {
    return this.child.exited;
  }

  signal(name: NodeJS.Signals): void {
    this.child.kill(name);
  }

  /** The JSON log lines written so far. */
  logLines(): LogLine[] {
    return readFileSync(join(this.root, "server.log"), "utf8")
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as LogLine);
  }

  /** Waits until a log line satisfies `match` (the server writes its log within a turn of its event loop). */
  async waitForLog(match: (line: LogLine) => boolean): Promise<LogLine> {
    const deadline = Date.now() + STARTUP_DEADLINE_MS;
    for (;;) {
      const found = this.logLines().find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no such log line; the log:\n${readFileSync(join(this.root, "server.log"), "utf8")}`);
      await Bun.sleep(20);
    }
  }

  /** Starts the server again on the same storage and database (after it exited). */
  async restart(flags: readonly string[] = []): Promise<void> {
    const { child, url } = await launch(this.runner, this.root, flags);
    this.child = child;
    this.address = url;
  }

  async stop(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.child.exited;
    this.cleanup();
  }
}

function dataArgs(root: string): string[] {
  return ["--storage", `file:${join(root, "repos")}`, "--database", `sqlite:${join(root, "db.sqlite")}`];
}

function admin(runner: Runner, root: string, args: string[]): string {
  const result = Bun.spawnSync([...runner.command, ...args, ...dataArgs(root)], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`stategit ${args.join(" ")} failed: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

/** Starts the server; resolves with the URL it prints on stdout once listening. Its log goes to server.log. */
async function launch(runner: Runner, root: string, flags: readonly string[]) {
  const log = openSync(join(root, "server.log"), "a");
  const child = Bun.spawn([...runner.command, "serve", "--listen", "127.0.0.1:0", ...dataArgs(root), ...flags], {
    cwd: root,
    stdin: "ignore",
    stdout: "pipe",
    stderr: log,
  });
  closeSync(log);
  const reader = child.stdout.getReader();
  let printed = "";
  const deadline = setTimeout(() => child.kill("SIGKILL"), STARTUP_DEADLINE_MS);
  try {
    for (;;) {
      const match = /stategit listening on (\S+)\n/.exec(printed);
      if (match) return { child, url: match[1] };
      const { done, value } = await reader.read();
      if (done) throw new Error(`stategit serve exited before listening:\n${readFileSync(join(root, "server.log"), "utf8")}`);
      printed += new TextDecoder().decode(value);
    }
  } finally {
    clearTimeout(deadline);
    reader.releaseLock();
  }
}
