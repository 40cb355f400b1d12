import { nativeCodec } from "../../git/codec/index.ts";
import { verifyPack, type VerifyResult } from "../../git/pack/verify.ts";
import { UsageError, type Command } from "../command.ts";
import { aboutFile, packBaseName, readWholeFile } from "./index-pack.ts";

function objects(count: number): string {
  return `${count} ${count === 1 ? "object" : "objects"}`;
}

/** What `git verify-pack -v` prints after its per-object lines: the delta chain histogram. */
function summary(packPath: string, result: VerifyResult): string {
  const byType = Object.entries(result.objectsByType).map(([type, count]) => `${type} ${count}`);
  const lines = [`${objects(result.objectCount)} (${byType.join(", ")}), ${result.deltaCount} deltas`, `non delta: ${objects(result.chainLengths[0])}`];
  result.chainLengths.forEach((count, length) => {
    if (length > 0 && count > 0) lines.push(`chain length = ${length}: ${objects(count)}`);
  });
  lines.push(`${packPath}: ok`);
  return `${lines.join("\n")}\n`;
}

export const verifyPackCommand: Command = {
  name: "verify-pack",
  summary: "check FILE.idx and the pack FILE.pack beside it, as `git verify-pack` does",
  args: ["FILE.idx"],
  options: [{ name: "verbose", short: "v", description: "print the object counts and the delta chain histogram" }],
  notes: [
    "Checks the pack's checksum, that every object inflates, resolves within the pack and hashes",
    "to its id, and that the index is intact and lists exactly those objects, offsets and CRC-32s.",
    "FILE.pack may be named instead of FILE.idx. Silent on success unless --verbose.",
    "Exit status: 0 both are good, 1 something is wrong (the first difference found is printed;",
    "a missing FILE.pack counts), 2 bad usage, including a FILE.idx that cannot be read.",
  ].join("\n"),
  run: async ({ args: [path], options, io }) => {
    const base = packBaseName(path, [".idx", ".pack"]);
    const idxPath = `${base}.idx`;
    const packPath = `${base}.pack`;
    const idx = readWholeFile(idxPath, UsageError);
    const pack = readWholeFile(packPath, Error);
    const result = aboutFile(packPath, () => verifyPack(pack, idx, nativeCodec));
    if (options.flag("verbose")) io.out(summary(packPath, result));
  },
};
