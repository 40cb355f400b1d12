import { git } from "../support/git.ts";
import { ORACLE_CONFIG } from "./fixtures.ts";

/** What git's own `upload-pack --stateless-rpc` answers to `body` (the reference behaviour). */
export function oracleUploadPack(dir: string, body: Uint8Array, protocol = ""): Uint8Array {
  return git([...ORACLE_CONFIG, "upload-pack", "--stateless-rpc", dir], { input: body, env: { GIT_PROTOCOL: protocol }, allowFailure: true }).stdout;
}
