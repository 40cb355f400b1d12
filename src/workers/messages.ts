import { CorruptDataError, GitError, LimitExceededError } from "../git/errors.ts";
import type { Oid } from "../git/oid.ts";
import type { PackLimits } from "../git/pack/types.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { PackJob } from "../protocol/pack-job.ts";
import type { SentPack } from "../protocol/pack-stream.ts";
import { UnpackError } from "../repo/push.ts";
import type { WorkerReply } from "./pool.ts";

/**
 * The messages between the request thread and a pack worker (pack-worker.ts). Every job names
 * the repository packs it reads; a pack's bytes travel only to a worker that does not hold it
 * yet, and they live in shared memory (SharedArrayBuffer), so even then nothing is copied.
 */

/**
 * A pack the job reads, by name (its checksum); `bytes` when the worker does not hold it, with
 * the pack's `references` (packReferences) when the request thread knows them, so that a full
 * clone can send the stored packs as they are without the worker reading every tree again.
 */
export interface PackRef {
  name: string;
  bytes?: { pack: Uint8Array; index: Uint8Array; references?: Uint8Array };
}

interface JobBase {
  /** The repository's packs, newest first. */
  packs: PackRef[];
  /** Packs the worker should let go of (its share of the memory budget is spent). */
  forget: string[];
}

export type PackWorkerJob =
  /** `learn`: the packs whose references the request thread does not know, for the worker to send back those it found. */
  | (JobBase & { kind: "upload-pack"; head?: string; refs: ReadonlyMap<string, Oid>; job: PackJob; learn: string[] })
  | (JobBase & { kind: "receive-pack"; pack: Uint8Array; limits?: Partial<PackLimits> })
  | (JobBase & { kind: "merge-packs"; young: string[]; tips: Oid[] });

/**
 * An upload-pack job's outcome: what was sent, and the references (packReferences) of the packs
 * in its `learn` that the worker knows now (a full clone scans them), so the request thread can
 * send a small full clone of them itself next time.
 */
export interface UploadedPack {
  sent: SentPack;
  references: { name: string; flags: Uint8Array }[];
}

/** A pack a worker made (a pushed pack indexed, a merge), in shared memory. */
export interface MadePack {
  name: string;
  pack: Uint8Array;
  index: Uint8Array;
}

export interface ReceivedPack {
  pack?: MadePack & { references: Uint8Array };
  dangling?: Oid;
}

export interface MergedPack {
  pack?: MadePack;
  droppedObjects: number;
}

/** What to transfer to post `bytes` without a copy: its buffer, unless it is shared memory (which is never copied). */
export function transferOf(bytes: Uint8Array): Bun.Transferable[] {
  return bytes.buffer instanceof SharedArrayBuffer ? [] : [bytes.buffer as ArrayBuffer];
}

type FailedReply = Extract<WorkerReply, { kind: "failed" }>["error"];

export function describeError(error: unknown): FailedReply {
  if (error instanceof GitError) return { name: error.name, code: error.code, message: error.message };
  return { name: "Error", message: error instanceof Error ? error.message : String(error) };
}

/** The typed errors callers tell apart, by name; anything else arrives as a plain Error. */
const GIT_ERRORS: Record<string, new (code: string, message: string) => GitError> = {
  UnpackError,
  ProtocolError,
  CorruptDataError,
  LimitExceededError,
  GitError,
};

/** The error a worker described, as the request thread throws it. */
export function errorFrom(error: Error, reply?: FailedReply): Error {
  const type = reply?.code === undefined ? undefined : GIT_ERRORS[reply.name];
  return type ? new type(reply?.code as string, error.message) : error;
}
