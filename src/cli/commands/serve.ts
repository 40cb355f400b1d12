import type { Command } from "../command.ts";
import { SERVE_OPTIONS, serveConfig } from "../config.ts";

export const serve: Command = {
  name: "serve",
  summary: "run the Git smart-HTTP and JSON API server",
  args: [],
  options: SERVE_OPTIONS,
  notes: "N: a plain whole number, at least 1.",
  run: async ({ options }) => {
    const config = serveConfig(options);
    // Loaded only here, so that administration commands do not pay for the server's modules.
    const { startServer } = await import("../../http/server.ts");
    await startServer(config);
  },
};
