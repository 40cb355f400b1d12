import type { Command, OptionSpec } from "./command.ts";

const COLUMN = 24;

export function programHelp(commands: readonly Command[]): string {
  return [
    "stategit — a Git smart-HTTP server for AI agents' memory",
    "",
    "Usage: stategit COMMAND [ARGUMENTS] [OPTIONS]",
    "       stategit --version",
    "",
    "Commands:",
    ...commands.map((command) => row([command.name, ...command.args].join(" "), command.summary)),
    "",
    "Options come from flags, else environment variables, else defaults;",
    "`stategit COMMAND --help` lists a command's options.",
    "Exit status: 0 success, 2 bad usage or configuration, 1 any other failure.",
    "",
  ].join("\n");
}

export function commandHelp(command: Command): string {
  return [
    `Usage: stategit ${[command.name, ...command.args].join(" ")}${command.options.length > 0 ? " [OPTIONS]" : ""}`,
    "",
    `${command.summary[0].toUpperCase()}${command.summary.slice(1)}.`,
    "",
    "Options:",
    ...command.options.map(optionHelp),
    row("-h, --help", "show this help"),
    ...(command.notes ? ["", command.notes] : []),
    "",
  ].join("\n");
}

function optionHelp(spec: OptionSpec): string {
  const where = [spec.env && `env ${spec.env}${spec.value ? "" : "=1"}`, spec.default !== undefined && `default ${spec.default}`, !spec.value && "default off"];
  return [row(`${spec.short ? `-${spec.short}, ` : ""}--${spec.name}${spec.value ? ` ${spec.value}` : ""}`, spec.description), row("", where.filter(Boolean).join(", "))].join("\n");
}

function row(left: string, right: string): string {
  const head = `  ${left}`;
  return head.length < COLUMN ? `${head.padEnd(COLUMN)}${right}` : `${head}\n${" ".repeat(COLUMN)}${right}`;
}
