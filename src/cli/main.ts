import { parseArgs } from "node:util";
import { COMMIT, VERSION } from "../version.ts";
import { UsageError, type Command, type Io, type OptionSpec, type Options } from "./command.ts";
import { COMMANDS } from "./commands/index.ts";
import { commandHelp, programHelp } from "./help.ts";

/** Runs one invocation of the program and resolves to its exit status (DESIGN.md, Contract). */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  let command: Command | undefined;
  try {
    if (argv.length === 0) throw new UsageError("no command given");
    if (argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
      io.out(programHelp(COMMANDS));
      return 0;
    }
    if (argv[0] === "--version" || argv[0] === "-V") {
      io.out(`stategit ${VERSION} (commit ${COMMIT})\n`);
      return 0;
    }
    command = findCommand(argv);
    const invocation = parseInvocation(command, argv.slice(command.name.split(" ").length), io.env);
    if (invocation === "help") {
      io.out(commandHelp(command));
      return 0;
    }
    return (await command.run({ ...invocation, io })) ?? 0;
  } catch (error) {
    if (error instanceof UsageError) {
      const where = command ? `${command.name}: ` : "";
      const help = `(see \`stategit ${command ? `${command.name} ` : ""}--help\`)`;
      io.err(error.problems.map((problem) => `stategit: ${where}${problem} ${help}\n`).join(""));
      return 2;
    }
    io.err(`stategit: ${command ? `${command.name}: ` : ""}${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
}

/** The command named by the longest run of leading words. */
function findCommand(argv: readonly string[]): Command {
  let found: Command | undefined;
  for (const command of COMMANDS) {
    const words = command.name.split(" ");
    if (words.every((word, i) => argv[i] === word) && words.length > (found?.name.split(" ").length ?? 0)) found = command;
  }
  if (found) return found;
  const group = COMMANDS.filter((command) => command.name.split(" ")[0] === argv[0]).map((command) => command.name);
  const expected = group.length > 0 ? group : COMMANDS.map((command) => command.name.split(" ")[0]);
  throw new UsageError(`unknown command ${JSON.stringify(argv.slice(0, 2).join(" "))}; expected one of: ${[...new Set(expected)].join(", ")}`);
}

/**
 * A command's arguments and options from what follows its name, or "help" when `--help` is among
 * them. Throws UsageError for anything malformed.
 */
export function parseInvocation(command: Command, rest: readonly string[], env: Io["env"]): { args: string[]; options: Options } | "help" {
  const { values, positionals } = parseCommandLine(command, rest);
  if (values.help === true) return "help";
  // Optional arguments are written in brackets ("[ORG]") and come last.
  const required = command.args.filter((arg) => !arg.startsWith("[")).length;
  if (positionals.length < required || positionals.length > command.args.length) {
    throw new UsageError(`expected ${command.args.length === 0 ? "no arguments" : command.args.join(" ")}, got ${positionals.length} argument(s)`);
  }
  return { args: positionals, options: resolveOptions(command.options, values, env) };
}

function parseCommandLine(command: Command, args: readonly string[]) {
  try {
    return parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: "boolean", short: "h" },
        ...Object.fromEntries(command.options.map((spec) => [spec.name, { type: spec.value ? "string" : "boolean", ...(spec.short && { short: spec.short }) } as const])),
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message.split("\n")[0]);
  }
}

/** Flags beat environment variables, which beat defaults. All are checked now, so bad ones fail before any work. */
function resolveOptions(specs: readonly OptionSpec[], flags: Record<string, string | boolean | undefined>, env: Io["env"]): Options {
  const resolved = new Map<string, string | boolean>();
  for (const spec of specs) {
    const fromEnv = spec.env === undefined || env[spec.env] === "" ? undefined : env[spec.env];
    const value = flags[spec.name] ?? (spec.value ? fromEnv : fromEnv !== undefined && parseSwitch(spec, fromEnv)) ?? spec.default;
    if (value !== undefined) resolved.set(spec.name, value);
  }
  return {
    string: (name) => {
      const value = resolved.get(name);
      if (typeof value !== "string") throw new UsageError(`--${name} is required`);
      return value;
    },
    optionalString: (name) => {
      const value = resolved.get(name);
      return typeof value === "string" ? value : undefined;
    },
    flag: (name) => resolved.get(name) === true,
  };
}

function parseSwitch(spec: OptionSpec, text: string): boolean {
  if (/^(1|true|yes|on)$/i.test(text)) return true;
  if (/^(0|false|no|off)$/i.test(text)) return false;
  throw new UsageError(`${spec.env}=${JSON.stringify(text)}: expected 1 or 0`);
}
