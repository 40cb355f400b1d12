/**
 * The API key a request carries: `Authorization: Basic base64(ANY_USER:KEY)` (what git credential
 * helpers send) or `Authorization: Bearer KEY`.
 */
export function apiKeyFromAuthorization(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const known = recentlyParsed.get(header);
  if (known !== undefined || recentlyParsed.has(header)) return known;
  const key = parseAuthorization(header);
  if (recentlyParsed.size >= MAX_RECENTLY_PARSED) recentlyParsed.clear();
  recentlyParsed.set(header, key);
  return key;
}

/**
 * Headers already parsed: a client sends the same one with every request, and decoding it was a
 * tenth of an up-to-date fetch's handling. Bounded (cleared when full): the headers are the clients'.
 */
const recentlyParsed = new Map<string, string | undefined>();
const MAX_RECENTLY_PARSED = 1024;

function parseAuthorization(header: string): string | undefined {
  const space = header.indexOf(" ");
  if (space < 0) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === "bearer") return value || undefined;
  if (scheme !== "basic") return undefined;
  // Buffer's base64 decoder skips what is not base64 rather than throwing.
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return decoded.slice(colon + 1) || undefined;
}
