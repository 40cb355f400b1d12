import { afterAll, describe, expect, test } from "bun:test";
import { CorruptDataError } from "../../../src/git/errors.ts";
import { fsckObject } from "../../../src/git/object/index.ts";
import { git, gitText, tempDir } from "../../support/git.ts";
import { HOSTILE_CASES, VALID_CASES, type HostileCase } from "./hostile.ts";

function codeOf(action: () => void): string {
  try {
    action();
  } catch (error) {
    if (error instanceof CorruptDataError) return error.code;
    throw error;
  }
  return "accepted";
}

describe("fsckObject", () => {
  test.each(HOSTILE_CASES.map((c) => [c.name, c] as const))("refuses %s", (_, hostile: HostileCase) => {
    expect(codeOf(() => fsckObject(hostile.type, hostile.data))).toBe(hostile.code);
  });

  test.each(VALID_CASES.map((c) => [c.name, c] as const))("accepts %s", (_, valid) => {
    expect(codeOf(() => fsckObject(valid.type, valid.data))).toBe("accepted");
  });

  test("blobs always pass", () => {
    fsckObject("blob", new Uint8Array([0, 1, 2, 0xff]));
    fsckObject("blob", new Uint8Array());
  });
});

describe("git fsck --strict agrees", () => {
  const scratch = tempDir("stategit-fsck-");
  afterAll(scratch.cleanup);
  const cwd = scratch.path;
  git(["init", "-q"], { cwd });
  // The ids the cases point to exist, so only the cases themselves can draw complaints.
  gitText(["hash-object", "-w", "--stdin"], { cwd, input: "" });
  gitText(["hash-object", "-t", "tree", "-w", "--stdin"], { cwd, input: "" });
  const write = (c: { type: string; data: Uint8Array }) => gitText(["hash-object", "-t", c.type, "-w", "--stdin", "--literally"], { cwd, input: c.data });
  const hostileIds = HOSTILE_CASES.map(write);
  const validIds = VALID_CASES.map(write);
  // One run for every object; lines look like "error in tree <oid>: hasDotgit: contains '.git'".
  const report = git(["fsck", "--strict", "--no-dangling"], { cwd, allowFailure: true }).stderr;
  const linesAbout = (oid: string) => report.split("\n").filter((line) => line.includes(oid));

  test.each(HOSTILE_CASES.map((c, i) => [c.name, c, hostileIds[i]] as const))("on %s", (_, hostile, oid) => {
    const lines = linesAbout(oid);
    const verdict = hostile.git;
    if (verdict === "accepted") expect(lines.filter((line) => line.startsWith("error"))).toEqual([]);
    else if (verdict === "unparseable") expect(lines.some((line) => line.startsWith("error") && !/: \w+: /.test(line.split(oid)[1]))).toBe(true);
    else if ("error" in verdict) expect(lines).toContainEqual(expect.stringContaining(`error in ${hostile.type} ${oid}: ${verdict.error}: `));
    else expect(lines).toContainEqual(expect.stringContaining(`warning in ${hostile.type} ${oid}: ${verdict.warning}: `));
  });

  test("on the objects both accept", () => {
    for (const oid of validIds) expect(linesAbout(oid)).toEqual([]);
  });
});
