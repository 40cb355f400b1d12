/** The two ways the CLI tests run stategit: from the sources, and as the compiled binary. */
import { beforeAll } from "bun:test";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const BINARY = join(ROOT, "dist/stategit");

export const RUNNERS = [
  // Bun reads the JSX settings of the web page's .tsx files from the working directory's tsconfig, and tests run elsewhere.
  { name: "sources", command: ["bun", "run", join(ROOT, "src/cli.ts")] },
  { name: "binary", command: [BINARY] },
];

export type Runner = (typeof RUNNERS)[number];

/** CI builds the binary before testing; elsewhere it is built once, in the calling file's beforeAll, when missing. */
export function buildBinaryOnce(): void {
  beforeAll(() => {
    if (existsSync(BINARY)) return;
    const build = Bun.spawnSync(["bun", "run", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    if (build.exitCode !== 0) throw new Error(`bun run build failed:\n${build.stderr.toString()}`);
  });
}
