import { checkName } from "../../names.ts";
import { withAccounts } from "../accounts.ts";
import { usage, type Command } from "../command.ts";
import { DATA_OPTIONS } from "../config.ts";

export const agentList: Command = {
  name: "agent list",
  summary: "list an organisation's agents, one id a line",
  args: ["ORG"],
  options: DATA_OPTIONS,
  run: async ({ args: [org], options, io }) => {
    usage(() => checkName("organisation", org));
    const agents = await withAccounts(options, async (accounts) => {
      if (!(await accounts.orgExists(org))) throw new Error(`organisation ${JSON.stringify(org)} does not exist`);
      return accounts.listAgents(org);
    });
    io.out(agents.map((agent) => `${agent.agentId}\n`).join(""));
  },
};
