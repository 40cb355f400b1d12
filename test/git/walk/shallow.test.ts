import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { nativeCodec } from "../../../src/git/codec/index.ts";
import { GitError } from "../../../src/git/errors.ts";
import type { Oid } from "../../../src/git/oid.ts";
import { computeShallow, INFINITE_DEPTH, listObjects, type DeepenRequest } from "../../../src/git/walk/index.ts";
import { git, gitText, tempDir } from "../../support/git.ts";
import { openDatabase } from "../odb/repository.ts";
import { history } from "./history.ts";
import { allObjects } from "./oracle.ts";

const gitDir = history({ commits: 400, files: 60, edits: 2, topicEvery: 25 });
const database = openDatabase(gitDir, nativeCodec);
const resolve = (name: string): Oid => gitText(["rev-parse", name], { cwd: gitDir });
const heads = [...new Set(gitText(["for-each-ref", "--format=%(objectname)", "refs/heads"], { cwd: gitDir }).split("\n"))];
const scratch = tempDir();
afterAll(() => scratch.cleanup());
let clones = 0;

function shallowFile(clone: string): Oid[] {
  const path = join(clone, ".git", "shallow");
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean).sort() : [];
}

/** `git clone --no-local` of every branch, without tags or checkout, with the given options. */
function clone(options: string[]): string {
  const path = join(scratch.path, `clone${clones++}`);
  git(["clone", "-q", "--no-local", "--no-checkout", "--no-single-branch", "--no-tags", ...options, `file://${gitDir}`, path]);
  return path;
}

/** What we would send for the request: the shallow update and the objects. */
function serve(request: DeepenRequest, have: Oid[] = []): { shallow: Oid[]; unshallow: Oid[]; objects: Oid[] } {
  const update = computeShallow(database, heads, request);
  const specs = listObjects({ reader: database, include: heads, exclude: have, shallow: update });
  return { shallow: [...update.shallow].sort(), unshallow: [...update.unshallow].sort(), objects: specs.map((spec) => spec.oid) };
}

function expectClone(cloned: string, served: { shallow: Oid[]; objects: Oid[] }): void {
  expect(served.shallow).toEqual(shallowFile(cloned));
  expect([...new Set(served.objects)].sort()).toEqual(allObjects(join(cloned, ".git")));
}

describe("computeShallow and listObjects match what git clone receives", () => {
  for (const depth of [1, 2, 5, 40]) {
    test(`--depth ${depth}`, () => expectClone(clone([`--depth=${depth}`]), serve({ depth })));
  }

  test("--shallow-since", () => {
    const since = Number(gitText(["log", "-1", "--format=%ct", "main~25"], { cwd: gitDir }));
    expectClone(clone([`--shallow-since=@${since}`]), serve({ deepenSince: since }));
  });

  test("--shallow-exclude a tag and a branch", () => {
    const cloned = clone(["--shallow-exclude=v200", "--shallow-exclude=topic5"]);
    expectClone(cloned, serve({ deepenNot: [resolve("v200"), resolve("topic5")] }));
  });

  test("--shallow-since with --shallow-exclude", () => {
    const since = Number(gitText(["log", "-1", "--format=%ct", "main~120"], { cwd: gitDir }));
    const cloned = clone([`--shallow-since=@${since}`, "--shallow-exclude=v350"]);
    expectClone(cloned, serve({ deepenSince: since, deepenNot: [resolve("v350")] }));
  });
});

describe("deepening an existing shallow clone matches git fetch", () => {
  /** The clone's state before a fetch, what we answer, and the clone's state after it. */
  function deepen(fetchOptions: string[], request: Omit<DeepenRequest, "clientShallow">): void {
    const cloned = clone(["--depth=3"]);
    const clientShallow = shallowFile(cloned);
    const before = allObjects(join(cloned, ".git"));
    const have = [...new Set(gitText(["for-each-ref", "--format=%(objectname)", "refs/remotes"], { cwd: cloned }).split("\n"))];
    git(["fetch", "-q", ...fetchOptions, "origin"], { cwd: cloned });
    const served = serve({ ...request, clientShallow }, have);
    const expectedShallow = [...new Set([...clientShallow, ...served.shallow])].filter((oid) => !served.unshallow.includes(oid)).sort();
    expect(expectedShallow).toEqual(shallowFile(cloned));
    expect([...new Set([...before, ...served.objects])].sort()).toEqual(allObjects(join(cloned, ".git")));
  }

  test("--deepen=2 (deepen-relative)", () => deepen(["--deepen=2"], { depth: 2, deepenRelative: true }));
  test("--depth=8 (absolute)", () => deepen(["--depth=8"], { depth: 8 }));
  test("--unshallow", () => deepen(["--unshallow"], { depth: INFINITE_DEPTH }));
  test("--shallow-since deeper than the boundary", () => {
    const since = Number(gitText(["log", "-1", "--format=%ct", "main~30"], { cwd: gitDir }));
    deepen([`--shallow-since=@${since}`], { deepenSince: since });
  });
});

describe("computeShallow requests", () => {
  test("a fetch without deepening keeps the client's boundary", () => {
    const clientShallow = [resolve("main~3"), "0123456789abcdef0123456789abcdef01234567"];
    const update = computeShallow(database, [resolve("main")], { clientShallow });
    expect(update).toEqual({ shallow: [], unshallow: [], boundary: [resolve("main~3")], parentsOfUnshallowed: [] });
    const specs = listObjects({ reader: database, include: [resolve("main")], exclude: [resolve("main~1")], shallow: update });
    expect(specs.filter((spec) => spec.type === "commit").map((spec) => spec.oid)).toEqual([resolve("main")]);
  });

  test("deepen-relative from boundaries the wants do not reach changes nothing", () => {
    const update = computeShallow(database, [resolve("topic5")], { clientShallow: [resolve("main")], depth: 2, deepenRelative: true });
    expect(update.shallow).toEqual([]);
    expect(update.unshallow).toEqual([]);
  });

  test("deepen with deepen-since, a shallow line that is not a commit, and an empty selection are errors", () => {
    expect(() => computeShallow(database, heads, { depth: 1, deepenSince: 1 })).toThrow(GitError);
    expect(() => computeShallow(database, heads, { clientShallow: [resolve("main^{tree}")] })).toThrow(GitError);
    expect(() => computeShallow(database, [resolve("main")], { deepenSince: 4_000_000_000 })).toThrow(GitError);
  });
});
