import { GitError } from "../git/errors.ts";

/**
 * A request the protocol refuses: malformed lines, unknown commands or arguments, wants that are
 * not ours, bad filter specs. Its message is what the client is shown (in an `ERR` packet);
 * an HTTP layer that catches it instead maps it to 400.
 */
export class ProtocolError extends GitError {}
