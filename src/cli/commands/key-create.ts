import { DatabaseError } from "../../db/adapter.ts";
import { checkName } from "../../names.ts";
import { withAccounts } from "../accounts.ts";
import { usage, type Command } from "../command.ts";
import { DATA_OPTIONS } from "../config.ts";

export const keyCreate: Command = {
  name: "key create",
  summary: "issue an API key for an existing organisation and print it, alone, on stdout",
  args: ["ORG"],
  options: [...DATA_OPTIONS, { name: "admin", description: "the key may change read-only memory blocks and the memory configuration" }],
  notes:
    "The key is shown only this once (the database keeps a hash). Its id, the 16 hex digits after\n" +
    "`sg_`, is what `stategit key revoke` takes. An organisation that does not exist is an error\n" +
    "(status 1), so that a typo cannot create a new one: create it with `stategit org create`.",
  run: async ({ args: [org], options, io }) => {
    usage(() => checkName("organisation", org));
    const { id, key } = await withAccounts(options, (accounts) => accounts.createKey(org, { admin: options.flag("admin") })).catch((error: unknown) => {
      if (error instanceof DatabaseError && error.code === "org.unknown") {
        throw new DatabaseError(error.code, `${error.message}; create it first with \`stategit org create ${org}\``);
      }
      throw error;
    });
    io.out(`${key}\n`);
    io.err(`issued ${options.flag("admin") ? "admin " : ""}key ${id} for organisation ${org}; it is shown only once\n`);
  },
};
