import packageJson from "../../package.json" with { type: "json" };

/** What the `agent` capability announces (gitprotocol-capabilities, "agent"). */
export const AGENT = `stategit/${packageJson.version}`;
