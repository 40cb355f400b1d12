import { PktLineBuilder } from "../git/pktline/index.ts";
import { ZERO_OID } from "../git/oid.ts";
import { AGENT } from "./agent.ts";
import { snapshotAnswer } from "./answers.ts";
import { RECEIVE_PACK_CAPABILITIES } from "./receive-pack.ts";
import { listRefs, peeledTarget, resolveHead, sortedRefNames } from "./refs.ts";
import type { RepositorySnapshot } from "./snapshot.ts";
import type { ProtocolVersion } from "./version.ts";

export type GitService = "git-upload-pack" | "git-receive-pack";

export function isGitService(value: string): value is GitService {
  return value === "git-upload-pack" || value === "git-receive-pack";
}

/** Content type of the GET info/refs answer (gitprotocol-http, "Smart Server Response"). */
export function advertisementContentType(service: GitService): string {
  return `application/x-${service}-advertisement`;
}

/** Content type of the POST answer (gitprotocol-http, "Smart Service git-upload-pack"). */
export function resultContentType(service: GitService): string {
  return `application/x-${service}-result`;
}

/**
 * upload-pack's v0/v1 capabilities, in git's order (upload-pack.c, write_v0_ref). Every
 * want-by-id mode is advertised: a want must still be reachable from a ref.
 */
const UPLOAD_PACK_CAPABILITIES =
  "multi_ack thin-pack side-band side-band-64k ofs-delta shallow deepen-since deepen-not" +
  " deepen-relative no-progress include-tag multi_ack_detailed allow-tip-sha1-in-want" +
  " allow-reachable-sha1-in-want no-done";

function uploadPackCapabilities(snapshot: RepositorySnapshot): string {
  // symref is only announced for a HEAD that resolves, as git does (upload-pack.c, find_symref).
  const symref = resolveHead(snapshot) !== undefined ? ` symref=HEAD:${snapshot.head}` : "";
  return `${UPLOAD_PACK_CAPABILITIES}${symref} filter object-format=sha1 agent=${AGENT}`;
}

/** The protocol v2 capability advertisement (gitprotocol-v2, "Capability Advertisement"). */
export const V2_CAPABILITIES: readonly string[] = [
  "version 2",
  `agent=${AGENT}`,
  "ls-refs=unborn",
  "fetch=shallow wait-for-done filter ref-in-want",
  "server-option",
  "object-format=sha1",
];

const V2_ADVERTISEMENT = V2_CAPABILITIES.reduce((out, line) => out.text(line), new PktLineBuilder()).flush().toBytes();

/**
 * The advertisement when it does not depend on the repository: upload-pack's v2 capabilities
 * (gitprotocol-v2, "Capability Advertisement"), so the request need not look at the repository
 * beyond finding it. The bytes are shared: never modify them.
 */
export function repositoryFreeAdvertisement(service: GitService, protocolVersion: ProtocolVersion): Uint8Array | undefined {
  return protocolVersion === 2 && service === "git-upload-pack" ? V2_ADVERTISEMENT : undefined;
}

function refLines(snapshot: RepositorySnapshot, service: GitService): Array<[oid: string, name: string]> {
  // receive-pack lists neither HEAD nor peeled tags (builtin/receive-pack.c, show_ref).
  if (service === "git-receive-pack") return sortedRefNames(snapshot).map((name) => [snapshot.refs.get(name)!, name]);
  const lines: Array<[string, string]> = [];
  for (const ref of listRefs(snapshot)) {
    lines.push([ref.oid, ref.name]);
    if (ref.name === "HEAD") continue;
    const peeled = peeledTarget(snapshot, ref.oid);
    if (peeled !== undefined) lines.push([peeled, `${ref.name}^{}`]);
  }
  return lines;
}

/**
 * The body of `GET info/refs?service=…` (gitprotocol-http, "Smart Clients"). For v0/v1: the
 * `# service=` line and a flush, then (v1) `version 1`, then the refs with the capabilities after
 * a NUL on the first line; an empty repository advertises `capabilities^{}` with the zero id.
 * For v2 upload-pack: only the capability advertisement. Push always speaks v0/v1. The bytes
 * are shared with later requests for the same snapshot: never modify them.
 */
export function advertise(snapshot: RepositorySnapshot, service: GitService, protocolVersion: ProtocolVersion): Uint8Array {
  return repositoryFreeAdvertisement(service, protocolVersion) ?? snapshotAnswer(snapshot, `${service} v${protocolVersion}`, () => refAdvertisement(snapshot, service, protocolVersion));
}

function refAdvertisement(snapshot: RepositorySnapshot, service: GitService, protocolVersion: ProtocolVersion): Uint8Array {
  const out = new PktLineBuilder();
  out.text(`# service=${service}`).flush();
  if (protocolVersion === 1) out.text("version 1");
  const capabilities = service === "git-upload-pack" ? uploadPackCapabilities(snapshot) : RECEIVE_PACK_CAPABILITIES.join(" ");
  const lines = refLines(snapshot, service);
  if (lines.length === 0) lines.push([ZERO_OID, "capabilities^{}"]);
  lines.forEach(([oid, name], index) => out.text(index === 0 ? `${oid} ${name}\0${capabilities}` : `${oid} ${name}`));
  return out.flush().toBytes();
}
