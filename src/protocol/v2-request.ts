import { PktLineReader, pktLineText } from "../git/pktline/index.ts";
import { ProtocolError } from "./errors.ts";

/** One protocol v2 command request (gitprotocol-v2, "Command Request"). */
export interface V2Request {
  command: string;
  /** `server-option=` values, in order; accepted and otherwise ignored. */
  serverOptions: string[];
  /** The argument lines after the delim, LF stripped. */
  args: string[];
}

/** Capability keys a request may carry: what the v2 advertisement offers besides commands. */
const REQUEST_CAPABILITIES = new Set(["agent", "server-option", "object-format"]);
const V2_COMMANDS = new Set(["ls-refs", "fetch"]);

function parseCapabilityLine(line: string, request: Partial<V2Request> & { serverOptions: string[] }): void {
  const equals = line.indexOf("=");
  const key = equals < 0 ? line : line.slice(0, equals);
  const value = equals < 0 ? undefined : line.slice(equals + 1);
  if (key === "command") {
    if (request.command !== undefined) throw new ProtocolError("protocol.command", `command '${value}' requested after already requesting command '${request.command}'`);
    if (value === undefined || !V2_COMMANDS.has(value)) throw new ProtocolError("protocol.command", `invalid command '${value ?? ""}'`);
    request.command = value;
  } else if (!REQUEST_CAPABILITIES.has(key)) {
    throw new ProtocolError("protocol.capability", `unknown capability '${line}'`);
  } else if (key === "object-format" && value !== "sha1") {
    throw new ProtocolError("protocol.object-format", `mismatched object format: server sha1; client ${value ?? ""}`);
  } else if (key === "server-option" && value !== undefined) {
    request.serverOptions.push(value);
  }
}

/**
 * Parses a v2 request body. Returns undefined for a body without any capability or command
 * (an empty body or a lone flush: the client ends the session, git answers nothing).
 */
export function parseV2Request(body: Uint8Array): V2Request | undefined {
  const reader = new PktLineReader(body);
  const request: Partial<V2Request> & { serverOptions: string[] } = { serverOptions: [] };
  let sawKey = false;
  for (;;) {
    if (reader.atEnd) {
      if (!sawKey) return undefined;
      throw new ProtocolError("protocol.truncated", "request ended before its flush");
    }
    const packet = reader.next();
    if (packet.kind === "data") {
      sawKey = true;
      parseCapabilityLine(pktLineText(packet.payload), request);
      continue;
    }
    if (packet.kind === "response-end") throw new ProtocolError("protocol.unexpected", "unexpected response-end packet in a request");
    if (!sawKey) return undefined;
    if (request.command === undefined) throw new ProtocolError("protocol.command", "no command requested");
    const args: string[] = [];
    if (packet.kind === "delim") {
      for (let line = reader.next(); line.kind !== "flush"; line = reader.next()) {
        if (line.kind !== "data") throw new ProtocolError("protocol.unexpected", `expected flush after ${request.command} arguments`);
        args.push(pktLineText(line.payload));
      }
    }
    return { command: request.command, serverOptions: request.serverOptions, args };
  }
}
