/** git as the oracle for the walk tests: rev-list output parsed, object sets of repositories. */
import type { Oid } from "../../../src/git/oid.ts";
import type { PackObjectSpec } from "../../../src/git/pack/types.ts";
import { git, gitText } from "../../support/git.ts";

export interface ListedObject {
  oid: Oid;
  /** What follows the id on rev-list's line: the path of a tree or blob, a tag's name. */
  name?: string;
}

/** `git rev-list --objects ARGS`, one entry per line, in git's order. */
export function revListObjects(gitDir: string, args: string[]): ListedObject[] {
  // Not trimmed: a root tree's line ends in a space (its path is empty).
  const lines = new TextDecoder().decode(git(["rev-list", "--objects", ...args], { cwd: gitDir }).stdout).split("\n");
  return lines.slice(0, -1).map((line) => {
    const space = line.indexOf(" ");
    return space < 0 ? { oid: line } : { oid: line.slice(0, space), name: line.slice(space + 1) };
  });
}

/** Our listing in rev-list's shape (tags without names: we do not track them). */
export function asListed(specs: PackObjectSpec[]): ListedObject[] {
  return specs.map((spec) => (spec.path === undefined ? { oid: spec.oid } : { oid: spec.oid, name: spec.path }));
}

/** rev-list's listing with tag names dropped, to compare with ours. */
export function withoutTagNames(listed: ListedObject[], specs: PackObjectSpec[]): ListedObject[] {
  const tags = new Set(specs.filter((spec) => spec.type === "tag").map((spec) => spec.oid));
  return listed.map((entry) => (tags.has(entry.oid) ? { oid: entry.oid } : entry));
}

/** Every object reachable from all refs of a repository, as a sorted id list. */
export function allObjects(gitDir: string): Oid[] {
  return gitText(["rev-list", "--objects", "--all"], { cwd: gitDir })
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => line.slice(0, 40))
    .sort();
}
