/** The smart protocol over byte arrays and streams; the HTTP layer maps routes onto these. */
export { advertise, advertisementContentType, isGitService, resultContentType, type GitService } from "./advertise.ts";
export { AGENT } from "./agent.ts";
export { ProtocolError } from "./errors.ts";
export type { RepositorySnapshot, SnapshotObjects } from "./snapshot.ts";
export { errorPacket, uploadPack, type UploadPackOptions } from "./upload-pack.ts";
export { parseProtocolVersion, type ProtocolVersion } from "./version.ts";
