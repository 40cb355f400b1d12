import { isApiKeyId } from "../../db/accounts.ts";
import { withAccounts } from "../accounts.ts";
import { UsageError, type Command } from "../command.ts";
import { DATA_OPTIONS } from "../config.ts";

export const keyRevoke: Command = {
  name: "key revoke",
  summary: "revoke an API key for good",
  args: ["KEY_ID"],
  options: DATA_OPTIONS,
  notes: "KEY_ID: the 16 hex digits after `sg_` in the key. Running servers stop accepting it within 5 seconds.",
  run: async ({ args: [id], options, io }) => {
    if (!isApiKeyId(id)) throw new UsageError(`invalid key id ${JSON.stringify(id)}: expected the 16 hex digits after sg_ in the key`);
    if (!(await withAccounts(options, (accounts) => accounts.revokeKey(id)))) throw new Error(`no API key has the id ${id}`);
    io.err(`revoked key ${id}\n`);
  },
};
