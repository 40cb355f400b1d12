import { describe, expect, test } from "bun:test";
import { isUpdatableRefName, isValidRefName } from "../../src/git/refname.ts";
import { git } from "../support/git.ts";
import { seededRandom } from "../support/random.ts";

/** Cases of git's t/t1402-check-ref-format.sh: [name, valid, valid with --allow-onelevel]. */
const T1402_CASES: ReadonlyArray<readonly [string, boolean, boolean]> = [
  ["heads/foo", true, true],
  ["foo", false, true],
  ["foo/bar/baz", true, true],
  ["refs///heads/foo", false, false],
  ["heads/foo/", false, false],
  ["/heads/foo", false, false],
  ["///heads/foo", false, false],
  ["./foo", false, false],
  ["./foo/bar", false, false],
  ["foo/./bar", false, false],
  ["foo/bar/.", false, false],
  [".refs/foo", false, false],
  ["refs/heads/foo.", false, false],
  ["heads/foo..bar", false, false],
  ["heads/foo?bar", false, false],
  ["foo./bar", true, true],
  ["heads/foo.lock", false, false],
  ["heads///foo.lock", false, false],
  ["foo.lock/bar", false, false],
  ["foo.lock///bar", false, false],
  ["heads/foo@bar", true, true],
  ["heads/v@{ation", false, false],
  ["heads/foo\\bar", false, false],
  ["heads/foo\t", false, false],
  ["heads/foo\x7f", false, false],
  ["heads/fu\u00dfball", true, true],
  ["heads/*foo/bar", false, false],
  ["heads/foo*/bar", false, false],
  ["heads/f*o/bar", false, false],
  ["foo", false, true],
  ["@", false, false],
  ["heads/@", true, true],
  ["@/foo", true, true],
  ["foo/@", true, true],
  ["@{u}", false, false],
  ["heads/foo[bar", false, false],
  ["heads/foo bar", false, false],
  ["heads/foo~1", false, false],
  ["heads/foo^", false, false],
  ["heads/foo:bar", false, false],
  ["", false, false],
  [".lock", false, false],
  ["heads/.lock", false, false],
  ["heads/a.lockx", true, true],
];

describe("isValidRefName", () => {
  test.each(T1402_CASES)("%p", (name, valid, validOneLevel) => {
    const gitAccepts = (args: string[]) => git(["check-ref-format", ...args, name], { allowFailure: true }).exitCode === 0;
    expect([gitAccepts([]), gitAccepts(["--allow-onelevel"])]).toEqual([valid, validOneLevel]);
    expect(isValidRefName(name)).toBe(valid);
    expect(isValidRefName(name, { allowOneLevel: true })).toBe(validOneLevel);
  });

  test("agrees with git check-ref-format on generated names", () => {
    const random = seededRandom(1402);
    const alphabet = ["a", "b", "/", ".", "@", "{", "lock", "~", " ", "\x01", "*", "é", "-", "\\"];
    const names: string[] = [];
    for (let i = 0; i < 150; i++) {
      let name = "";
      const length = 1 + Math.floor(random() * 8);
      for (let j = 0; j < length; j++) name += alphabet[Math.floor(random() * alphabet.length)];
      if (!name.startsWith("-")) names.push(name);
    }
    for (const name of names) {
      const expected = git(["check-ref-format", name], { allowFailure: true }).exitCode === 0;
      expect([name, isValidRefName(name)]).toEqual([name, expected]);
    }
  });
});

describe("isUpdatableRefName", () => {
  test.each([
    ["refs/heads/main", true],
    ["refs/tags/v1.0", true],
    ["refs/heads/feature/x", true],
    ["refs/main", false],
    ["HEAD", false],
    ["heads/main", false],
    ["refs/heads/main.lock", false],
    ["refs//heads/main", false],
    ["refs/heads/", false],
  ] as const)("%p", (name, expected) => {
    expect(isUpdatableRefName(name)).toBe(expected);
  });
});
