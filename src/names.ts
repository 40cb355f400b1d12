import { GitError } from "./git/errors.ts";

/**
 * Organisation names and agent ids (DESIGN.md, Contract, "Git over HTTP"): they become path
 * segments of repositories and storage keys, so the pattern keeps them to one safe segment.
 */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name) && !name.includes("..");
}

export class InvalidNameError extends GitError {
  constructor(kind: string, name: string) {
    super(
      "name.invalid",
      `invalid ${kind} ${JSON.stringify(name)}: expected 1-128 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit, without ".."`,
    );
  }
}

/** Returns `name` when valid; throws InvalidNameError naming `kind` ("organisation", "agent id") otherwise. */
export function checkName(kind: string, name: string): string {
  if (!isValidName(name)) throw new InvalidNameError(kind, name);
  return name;
}
