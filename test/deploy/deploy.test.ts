/**
 * deploy/: the systemd unit passes `systemd-analyze verify` (warnings count as failures) against
 * the built binary, and the Dockerfile's stages copy files that exist and run the binary with a
 * configuration it accepts. Both files' STATEGIT_* settings are checked by the real parser.
 * When a Docker daemon answers, the image is built and asked for its version. The README's
 * configuration table is checked against the options.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { COMMANDS } from "../../src/cli/commands/index.ts";
import { serveConfig } from "../../src/cli/config.ts";
import { parseInvocation } from "../../src/cli/main.ts";
import { tempDir } from "../support/git.ts";
import { buildBinaryOnce } from "../cli/runners.ts";

buildBinaryOnce();

const ROOT = resolve(import.meta.dir, "../..");
const BINARY = join(ROOT, "dist/stategit");
const UNIT = readFileSync(join(ROOT, "deploy/stategit.service"), "utf8");
const DOCKERFILE = readFileSync(join(ROOT, "deploy/Dockerfile"), "utf8");
const serve = COMMANDS.find((command) => command.name === "serve")!;

/** Checks settings the way `stategit serve` does at start; throws its UsageError otherwise. */
function acceptedByServe(env: Record<string, string>): void {
  const known = new Set(serve.options.map((option) => option.env));
  for (const name of Object.keys(env)) expect(known.has(name) ? name : `unknown variable ${name}`).toBe(name);
  const invocation = parseInvocation(serve, [], env);
  if (invocation === "help") throw new Error("unexpected help");
  serveConfig(invocation.options);
}

function unitValues(key: string): string[] {
  return [...UNIT.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].map((match) => match[1]);
}

describe("the systemd unit", () => {
  test.skipIf(!Bun.which("systemd-analyze"))("systemd-analyze verify finds nothing to say (with the binary in place of /usr/local/bin/stategit)", () => {
    const dir = tempDir("stategit-unit-");
    try {
      const unit = join(dir.path, "stategit.service");
      writeFileSync(unit, UNIT.replaceAll("/usr/local/bin/stategit", BINARY));
      const result = Bun.spawnSync(["systemd-analyze", "verify", unit], { stdout: "pipe", stderr: "pipe" });
      expect({ exitCode: result.exitCode, output: `${result.stdout}${result.stderr}` }).toEqual({ exitCode: 0, output: "" });
    } finally {
      dir.cleanup();
    }
  });

  test("its command, reload and settings are the binary's, and systemd waits longer than the drain", () => {
    expect(unitValues("ExecStart")).toEqual(["/usr/local/bin/stategit serve"]);
    expect(unitValues("ExecReload")).toEqual(["/bin/kill -HUP $MAINPID"]);
    const env = Object.fromEntries(unitValues("Environment").map((line) => line.split(/=(.*)/s).slice(0, 2)));
    acceptedByServe(env);
    expect(Number(unitValues("TimeoutStopSec")[0])).toBeGreaterThan(Number(env.STATEGIT_SHUTDOWN_TIMEOUT));
    for (const hardening of ["DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "ProtectHome=yes", "StateDirectory=stategit"]) {
      expect(UNIT).toContain(`\n${hardening}\n`);
    }
  });
});

describe("the README", () => {
  test("its configuration table names every serve option, its variable and its default", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const rows = readme.split("\n").filter((line) => line.startsWith("| `--"));
    for (const option of serve.options) {
      const row = rows.find((line) => line.startsWith(`| \`--${option.name}`));
      expect(row ?? `no row for --${option.name}`).toContain(`\`${option.env}`);
      if (option.default !== undefined) expect(row).toContain(option.default);
    }
  });
});

interface Stage {
  name?: string;
  instructions: { keyword: string; args: string }[];
}

/** The Dockerfile's stages, with continuation lines joined and comments dropped. */
function dockerStages(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.replace(/\\\n\s*/g, " ").split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#"));
  for (const line of lines) {
    const [, keyword, args] = /^(\w+)\s+(.*)$/.exec(line.trim())!;
    if (keyword === "FROM") stages.push({ name: / AS (\S+)$/i.exec(args)?.[1], instructions: [] });
    stages.at(-1)!.instructions.push({ keyword, args });
  }
  return stages;
}

describe("the Dockerfile", () => {
  const stages = dockerStages(DOCKERFILE);
  const [build, runtime] = stages;
  const args = (stage: Stage, keyword: string) => stage.instructions.filter((instruction) => instruction.keyword === keyword).map(({ args }) => args);

  test("two stages: the build copies files that exist and builds dist/stategit; the runtime copies only that", () => {
    expect(stages.map((stage) => stage.name)).toEqual(["build", undefined]);
    for (const copy of args(build, "COPY")) {
      const sources = copy.split(/\s+/).slice(0, -1);
      for (const source of sources) expect(existsSync(join(ROOT, source)) ? source : `missing ${source}`).toBe(source);
    }
    expect(args(build, "RUN").some((run) => run.includes("npx bun run build"))).toBe(true);
    const fromBuild = args(runtime, "COPY").filter((copy) => copy.includes("--from=build"));
    expect(fromBuild[0]).toBe("--from=build /src/dist/stategit /usr/local/bin/stategit");
    expect(args(runtime, "COPY").every((copy) => copy.includes("--from=build"))).toBe(true);
  });

  test("the image runs `stategit serve` as a non-root user with settings serve accepts", () => {
    const entrypoint = JSON.parse(args(runtime, "ENTRYPOINT")[0]) as string[];
    const command = JSON.parse(args(runtime, "CMD")[0]) as string[];
    expect([...entrypoint, ...command]).toEqual(["/usr/local/bin/stategit", "serve"]);
    expect(args(runtime, "USER")).toEqual(["nonroot"]);
    const env = Object.fromEntries(args(runtime, "ENV").flatMap((line) => line.split(/\s+/).map((pair) => pair.split(/=(.*)/s).slice(0, 2))));
    acceptedByServe(env);
    expect(env.STATEGIT_STORAGE.startsWith(`file:${args(runtime, "VOLUME")[0]}/`)).toBe(true);
    expect(args(runtime, "EXPOSE")).toEqual([env.STATEGIT_LISTEN.split(":")[1]]);
  });

  const docker = Bun.which("docker") ? Bun.spawnSync(["docker", "info"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0 : false;
  test.skipIf(!docker)(
    "the image builds and prints its version (needs a Docker daemon)",
    () => {
      const tag = `stategit-test:${process.pid}`;
      const built = Bun.spawnSync(["docker", "build", "-q", "-f", "deploy/Dockerfile", "-t", tag, "."], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
      expect(built.exitCode === 0 ? "" : built.stderr.toString()).toBe("");
      const version = Bun.spawnSync(["docker", "run", "--rm", tag, "--version"], { stdout: "pipe", stderr: "pipe" });
      expect(version.stdout.toString()).toMatch(/^stategit \d+\.\d+\.\d+ \(commit unknown\)\n$/);
      Bun.spawnSync(["docker", "rmi", "-f", tag], { stdout: "ignore", stderr: "ignore" });
    },
    600_000,
  );
});
