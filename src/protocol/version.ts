export type ProtocolVersion = 0 | 1 | 2;

/**
 * The protocol version a client asks for in its `Git-Protocol` header (gitprotocol-http):
 * colon-separated `key=value` parameters, of which `version=N` counts; the highest known
 * version listed wins, anything else means v0 (gitprotocol-v2, "HTTP Transport").
 */
export function parseProtocolVersion(header: string | null | undefined): ProtocolVersion {
  let version: ProtocolVersion = 0;
  for (const parameter of (header ?? "").split(":")) {
    if (parameter === "version=2") version = 2;
    else if (parameter === "version=1" && version === 0) version = 1;
  }
  return version;
}
