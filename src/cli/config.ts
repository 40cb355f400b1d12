import { DEFAULT_PACK_LIMITS } from "../git/pack/types.ts";
import type { ServeConfig } from "../http/server.ts";
import { DATABASE_URL_FORMS, parseDatabaseUrl } from "../db/open.ts";
import { parseStoreUrl, STORE_URL_FORMS } from "../storage/open.ts";
import { usage, UsageError, type OptionSpec, type Options } from "./command.ts";

export const STORAGE_OPTION: OptionSpec = {
  name: "storage",
  env: "STATEGIT_STORAGE",
  value: "URL",
  default: "file:./data/repos",
  description: `where repositories are stored: ${STORE_URL_FORMS}`,
};

export const DATABASE_OPTION: OptionSpec = {
  name: "database",
  env: "STATEGIT_DATABASE_URL",
  value: "URL",
  default: "sqlite:./data/stategit.db",
  description: `organisations, keys, agents and the blocks mirror: ${DATABASE_URL_FORMS}`,
};

/** What every command that touches the data takes, so administration runs against the server's configuration. */
export const DATA_OPTIONS: readonly OptionSpec[] = [STORAGE_OPTION, DATABASE_OPTION];

export const SERVE_OPTIONS: readonly OptionSpec[] = [
  { name: "listen", env: "STATEGIT_LISTEN", value: "HOST:PORT", default: "127.0.0.1:8283", description: "address to listen on ([::1]:PORT for IPv6; port 0 picks a free one)" },
  ...DATA_OPTIONS,
  {
    name: "trust-org-header",
    env: "STATEGIT_TRUST_ORG_HEADER",
    description: "accept requests without credentials that carry X-Organization-Id (only behind a trusted proxy)",
  },
  { name: "allow-force-push", env: "STATEGIT_ALLOW_FORCE_PUSH", description: "accept pushes that are not fast-forwards" },
  { name: "max-body-bytes", env: "STATEGIT_MAX_BODY_BYTES", value: "N", default: String(512 * 1024 * 1024), description: "largest request body, after decompression" },
  { name: "max-object-bytes", env: "STATEGIT_MAX_OBJECT_BYTES", value: "N", default: String(DEFAULT_PACK_LIMITS.maxObjectSize), description: "largest object (or delta) in a pushed pack, inflated" },
  { name: "max-inflated-bytes", env: "STATEGIT_MAX_INFLATED_BYTES", value: "N", default: String(DEFAULT_PACK_LIMITS.maxInflatedBytes), description: "sum of all inflated bytes a pushed pack may produce" },
  { name: "max-objects", env: "STATEGIT_MAX_OBJECTS", value: "N", default: String(DEFAULT_PACK_LIMITS.maxObjectCount), description: "most objects in a pushed pack" },
  { name: "max-delta-depth", env: "STATEGIT_MAX_DELTA_DEPTH", value: "N", default: String(DEFAULT_PACK_LIMITS.maxDeltaDepth), description: "longest delta chain in a pushed pack" },
];

/** The data options, validated (a malformed URL is a UsageError). */
export function dataConfig(options: Options): { storageUrl: string; databaseUrl: string } {
  const storageUrl = options.string("storage");
  const databaseUrl = options.string("database");
  usage(() => parseStoreUrl(storageUrl));
  usage(() => parseDatabaseUrl(databaseUrl));
  return { storageUrl, databaseUrl };
}

export function serveConfig(options: Options): ServeConfig {
  const count = (name: string) => positiveInteger(name, options.string(name));
  return {
    listen: parseListen(options.string("listen")),
    ...dataConfig(options),
    trustOrgHeader: options.flag("trust-org-header"),
    allowForcePush: options.flag("allow-force-push"),
    limits: {
      maxBodyBytes: count("max-body-bytes"),
      maxObjectSize: count("max-object-bytes"),
      maxInflatedBytes: count("max-inflated-bytes"),
      maxObjectCount: count("max-objects"),
      maxDeltaDepth: count("max-delta-depth"),
    },
  };
}

/** `HOST:PORT`, or `[IPV6]:PORT`. */
export function parseListen(text: string): { hostname: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new UsageError(`invalid listen address ${JSON.stringify(text)}: expected HOST:PORT`);
  return { hostname: match[1] ?? match[2], port };
}

export function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || !Number.isSafeInteger(value)) {
    throw new UsageError(`--${name}: expected a positive whole number, got ${JSON.stringify(text)}`);
  }
  return value;
}
