import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { nativeCodec } from "../../git/codec/index.ts";
import { MissingObjectError } from "../../git/errors.ts";
import { encodePackIndex } from "../../git/idxfile/index.ts";
import { indexPack } from "../../git/pack/input/index.ts";
import { UsageError, type Command } from "../command.ts";

/** The whole file at `path`; when it cannot be read, throws `failure` with a one-line reason. */
export function readWholeFile(path: string, failure: new (message: string) => Error): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new failure(`cannot read ${path}: ${systemReason(error)}`);
  }
}

/** "no such file or directory" from "ENOENT: no such file or directory, open 'x'". */
function systemReason(error: unknown): string {
  const message = (error as Error).message ?? String(error);
  return /^[A-Z]+: ([^,]+)/.exec(message)?.[1] ?? message;
}

/** Runs `body`; its failure becomes one line naming `path`, worded by `explain`. */
export function aboutFile<T>(path: string, body: () => T, explain = (error: Error) => error.message): T {
  try {
    return body();
  } catch (error) {
    throw new Error(`${path}: ${explain(error as Error)}`);
  }
}

/** `FILE.pack` → `FILE`; anything else is bad usage. */
export function packBaseName(path: string, suffixes: readonly string[]): string {
  const suffix = suffixes.find((candidate) => path.endsWith(candidate) && path.length > candidate.length);
  if (!suffix) throw new UsageError(`${path}: expected a file name ending in ${suffixes.join(" or ")}`);
  return path.slice(0, -suffix.length);
}

/** Replaces `path` in one step, so a reader never sees half an index. */
function writeFileAtomically(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, bytes);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new Error(`cannot write ${path}: ${systemReason(error)}`);
  }
}

/** git index-pack outside a repository refuses a thin pack too ("pack has N unresolved deltas"); name the first missing base. */
function explainThin(error: Error): string {
  if (!(error instanceof MissingObjectError)) return error.message;
  return `thin pack, delta base ${error.oid} is not in the pack (index-pack has no repository to complete it from)`;
}

export const indexPackCommand: Command = {
  name: "index-pack",
  summary: "write FILE.idx for FILE.pack, as `git index-pack` does, and print the pack's checksum",
  args: ["FILE.pack"],
  options: [],
  notes: [
    "The index is byte-identical to git's. A thin pack (a delta whose base is not in the pack) is",
    "refused: without a repository there is nothing to complete it from.",
    "Exit status: 0 indexed, 1 the pack is corrupt, thin or over a limit (nothing is written) or",
    "FILE.idx cannot be written, 2 bad usage, including a FILE.pack that cannot be read.",
  ].join("\n"),
  run: async ({ args: [packPath], io }) => {
    const idxPath = `${packBaseName(packPath, [".pack"])}.idx`;
    const pack = readWholeFile(packPath, UsageError);
    const indexed = aboutFile(packPath, () => indexPack(pack, { codec: nativeCodec }), explainThin);
    writeFileAtomically(idxPath, encodePackIndex(indexed.entries, indexed.packChecksum, nativeCodec));
    io.out(`${indexed.packChecksum}\n`);
  },
};
