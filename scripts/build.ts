/**
 * `bun run build`: compiles src/cli.ts into the self-contained executable dist/stategit, with the
 * commit it was built from embedded (`stategit --version`). The commit is taken from
 * STATEGIT_COMMIT when set (a Docker build has no .git), else from git, else "unknown".
 * Worker thread scripts are entry points of their own (Bun bundles `new Worker(path)` targets
 * only when listed); the executable finds them by their path under src/ (src/workers/pack-workers.ts).
 */
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");

function sourceCommit(): string {
  if (process.env.STATEGIT_COMMIT) return process.env.STATEGIT_COMMIT;
  const git = Bun.which("git") ? Bun.spawnSync(["git", "describe", "--always", "--dirty", "--abbrev=12", "--match", "none"], { cwd: ROOT, stderr: "ignore" }) : undefined;
  const described = git?.exitCode === 0 ? git.stdout.toString().trim() : "";
  return described || "unknown";
}

const build = Bun.spawnSync(
  ["bun", "build", "--compile", "--minify", "--define", `STATEGIT_COMMIT=${JSON.stringify(sourceCommit())}`, "src/cli.ts", "src/workers/pack-worker.ts", "--outfile", "dist/stategit"],
  { cwd: ROOT, stdout: "inherit", stderr: "inherit" },
);
process.exit(build.exitCode ?? 1);
