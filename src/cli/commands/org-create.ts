import { checkName } from "../../names.ts";
import { withAccounts } from "../accounts.ts";
import { usage, type Command } from "../command.ts";
import { DATA_OPTIONS } from "../config.ts";

export const orgCreate: Command = {
  name: "org create",
  summary: "create an organisation (one that exists already is not an error)",
  args: ["ORG"],
  options: DATA_OPTIONS,
  notes: "ORG: 1-128 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit, without \"..\".",
  run: async ({ args: [org], options, io }) => {
    usage(() => checkName("organisation", org));
    const created = await withAccounts(options, (accounts) => accounts.createOrg(org));
    io.err(created ? `created organisation ${org}\n` : `organisation ${org} exists already\n`);
  },
};
