import { describe, expect, test } from "bun:test";
import { nativeCodec } from "../../../src/git/codec/index.ts";
import { MissingObjectError } from "../../../src/git/errors.ts";
import type { Oid } from "../../../src/git/oid.ts";
import { allReachable, commonHaves, isAncestor } from "../../../src/git/walk/index.ts";
import { git, gitText } from "../../support/git.ts";
import { seededRandom } from "../../support/random.ts";
import { openDatabase } from "../odb/repository.ts";
import { history } from "./history.ts";

const gitDir = history({ commits: 400, files: 60, edits: 2, topicEvery: 25 });
const database = openDatabase(gitDir, nativeCodec);
const resolve = (name: string): Oid => gitText(["rev-parse", name], { cwd: gitDir });
const commits = gitText(["rev-list", "--all"], { cwd: gitDir }).split("\n");
const random = seededRandom(5);
const pick = () => commits[Math.floor(random() * commits.length)];

function gitIsAncestor(ancestor: Oid, descendant: Oid, dir = gitDir): boolean {
  return git(["merge-base", "--is-ancestor", ancestor, descendant], { cwd: dir, allowFailure: true }).exitCode === 0;
}

describe("isAncestor equals git merge-base --is-ancestor", () => {
  test("random pairs of commits across branches and merges", () => {
    let yes = 0;
    for (let i = 0; i < 150; i++) {
      const [a, b] = [pick(), pick()];
      const expected = gitIsAncestor(a, b);
      if (expected) yes++;
      expect(isAncestor(database, a, b)).toBe(expected);
    }
    expect(yes).toBeGreaterThan(20);
  });

  test("named cases: itself, parents, side branches, tags", () => {
    const cases: [string, string][] = [
      ["main", "main"],
      ["main~1", "main"],
      ["main", "main~1"],
      ["main~399", "main"],
      ["topic3", "main"],
      ["topic2", "main"],
      ["main", "topic2"],
      ["v50", "v350"],
      ["v350", "nested"],
      ["topic14", "topic13"],
    ];
    for (const [a, b] of cases) expect(isAncestor(database, resolve(a), resolve(b))).toBe(gitIsAncestor(resolve(a), resolve(b)));
  });

  test("random pairs on a history with clock skew", () => {
    const skewedDir = history({ commits: 300, files: 30, edits: 2, topicEvery: 10, skewEvery: 7 });
    const skewed = openDatabase(skewedDir, nativeCodec);
    const all = gitText(["rev-list", "--all"], { cwd: skewedDir }).split("\n");
    for (let i = 0; i < 80; i++) {
      const [a, b] = [all[Math.floor(random() * all.length)], all[Math.floor(random() * all.length)]];
      expect(isAncestor(skewed, a, b)).toBe(gitIsAncestor(a, b, skewedDir));
    }
  });

  test("an unknown ancestor is not an ancestor; an unknown descendant is an error", () => {
    const unknown = "0123456789abcdef0123456789abcdef01234567";
    expect(isAncestor(database, unknown, resolve("main"))).toBe(false);
    expect(() => isAncestor(database, resolve("main"), unknown)).toThrow(MissingObjectError);
  });
});

describe("negotiation", () => {
  test("commonHaves keeps the haves the repository has, once", () => {
    const unknown = "0123456789abcdef0123456789abcdef01234567";
    expect(commonHaves(database, [resolve("main~4"), unknown, resolve("main~4"), resolve("v50")])).toEqual([resolve("main~4"), resolve("v50")]);
  });

  test("allReachable: every want reaches a have (or a have's parent)", () => {
    expect(allReachable(database, [resolve("main")], [])).toBe(false);
    expect(allReachable(database, [resolve("main")], [resolve("main~5")])).toBe(true);
    expect(allReachable(database, [resolve("main"), resolve("topic14")], [resolve("main~5")])).toBe(false);
    expect(allReachable(database, [resolve("main~5")], [resolve("main")])).toBe(false);
    expect(allReachable(database, [resolve("main~6")], [resolve("main~5")])).toBe(true);
    expect(allReachable(database, [resolve("main^{tree}")], [resolve("main~5")])).toBe(true);
    expect(allReachable(database, [resolve("v350")], [resolve("v300^{commit}")])).toBe(true);
    // As in git's upload-pack, a have that is a tag is acknowledged but not peeled.
    expect(allReachable(database, [resolve("v350")], [resolve("v300")])).toBe(false);
  });

  test("allReachable agrees with reachability wherever the have-parent rule does not decide", () => {
    let decided = 0;
    for (let i = 0; i < 60; i++) {
      const wants = [pick(), pick()];
      const haves = [pick(), pick(), pick()];
      const parents = haves.flatMap((have) => gitText(["rev-parse", `${have}^@`], { cwd: gitDir }).split("\n").filter(Boolean));
      const reachesHave = wants.every((want) => haves.some((have) => gitIsAncestor(have, want)));
      const reachesHaveOrParent = wants.every((want) => [...haves, ...parents].some((have) => gitIsAncestor(have, want)));
      if (reachesHave !== reachesHaveOrParent) continue;
      decided++;
      expect(allReachable(database, wants, haves)).toBe(reachesHave);
    }
    expect(decided).toBeGreaterThan(30);
  });
});
