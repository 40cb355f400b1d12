import packageJson from "../package.json" with { type: "json" };

/** Replaced by the commit id when the binary is built (scripts/build.ts passes `--define`). */
declare const STATEGIT_COMMIT: string | undefined;

export const VERSION: string = packageJson.version;

/** The commit the binary was built from; "dev" when running from the sources. Never asks git at run time. */
export const COMMIT: string = typeof STATEGIT_COMMIT === "string" ? STATEGIT_COMMIT : "dev";
