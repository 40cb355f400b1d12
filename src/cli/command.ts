import { GitError } from "../git/errors.ts";
import { StorageError } from "../storage/blob-store.ts";

/** Bad usage or configuration: the program exits with status 2 and prints one line per problem. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly problems: readonly string[];

  constructor(problems: string | readonly string[]) {
    const list = typeof problems === "string" ? [problems] : problems;
    super(list.join("; "));
    this.problems = list;
  }
}

/** Gathers the problems of a configuration, so that one start reports all of them. */
export class Problems {
  private readonly found: string[] = [];

  /** Runs a validator; its UsageError (or typed error, see usage) is noted and undefined returned. */
  check<T>(validate: () => T): T | undefined {
    try {
      return usage(validate);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      this.found.push(...error.problems);
      return undefined;
    }
  }

  /** Throws one UsageError listing every problem noted, if any. */
  throwIfAny(): void {
    if (this.found.length > 0) throw new UsageError(this.found);
  }
}

/** Runs a validator from a lower layer; its typed error becomes a UsageError with the same message. */
export function usage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof GitError || error instanceof StorageError) throw new UsageError(error.message);
    throw error;
  }
}

/** Where a command writes, and the environment it reads: process's in the binary, captured in tests. */
export interface Io {
  env: Readonly<Record<string, string | undefined>>;
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal: long commands then draw their progress (see startProgress). */
  errIsTerminal?: boolean;
}

/**
 * A command-line option. With `value` (its placeholder in help, e.g. "URL") it takes a string;
 * without, it is a switch. The value comes from the flag, else the environment variable `env`,
 * else `default` (DESIGN.md, Contract, "Binary and commands").
 */
export interface OptionSpec {
  name: string;
  /** A one-letter alias, e.g. "v" for `-v`. */
  short?: string;
  env?: string;
  value?: string;
  default?: string;
  description: string;
}

/** The resolved options of one invocation. */
export interface Options {
  /** The option's value; a UsageError when it has none (no flag, variable or default). */
  string(name: string): string;
  /** A string option without a default: undefined when not given. */
  optionalString(name: string): string | undefined;
  flag(name: string): boolean;
}

export interface Command {
  /** The words that invoke it, e.g. "key create". */
  name: string;
  summary: string;
  /** Positional arguments, e.g. ["ORG"]; optional ones last, in brackets ("[ORG]"). */
  args: readonly string[];
  options: readonly OptionSpec[];
  /** More help, printed after the options. */
  notes?: string;
  /** Resolves to the exit status (0 when omitted). */
  run(invocation: { args: string[]; options: Options; io: Io }): Promise<number | void>;
}
