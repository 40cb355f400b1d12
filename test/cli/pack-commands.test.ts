/**
 * `stategit index-pack` and `stategit verify-pack`, run from the sources and from the compiled
 * binary, with git as the oracle: the same .idx bytes, the same verdicts on good and bad packs.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nativeCodec } from "../../src/git/codec/index.ts";
import { repoFixture } from "../git/pack/input/fixtures.ts";
import { resealed } from "../git/pack/input/pack-builder.ts";
import { git, gitText, tempDir } from "../support/git.ts";
import { buildBinaryOnce, RUNNERS } from "./runners.ts";

buildBinaryOnce();

const workDir = tempDir("stategit-pack-commands-");
afterAll(workDir.cleanup);

const fixture = repoFixture();
/** A second, smaller pack of the same repository: its index belongs to another pack. */
const otherPack = git(["pack-objects", "--stdout", "--revs", "-q"], { cwd: fixture.gitDir, input: "main~1990\n" }).stdout;
/** A thin pack: the last commit's objects, deltas against bases only the repository has. */
const thinPack = git(["pack-objects", "--stdout", "--revs", "--thin", "-q"], { cwd: fixture.gitDir, input: "main\n^main~1\n" }).stdout;

let directories = 0;
/** Writes `files` (name → bytes) into a fresh directory and returns its path. */
function directoryWith(files: Record<string, Uint8Array>): string {
  const dir = join(workDir.path, `case-${++directories}`);
  mkdirSync(dir);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return dir;
}

/** The .idx git index-pack writes for `pack`. */
function gitIdx(pack: Uint8Array): Uint8Array<ArrayBuffer> {
  const dir = directoryWith({ "oracle.pack": pack });
  git(["index-pack", join(dir, "oracle.pack")]);
  return new Uint8Array(readFileSync(join(dir, "oracle.idx")));
}

function withByteFlipped(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  out[at] ^= 0x40;
  return out;
}

/** The index with the CRC-32 of its first object changed, and its own checksum made right again. */
function idxWithWrongCrc(idx: Uint8Array): Uint8Array {
  const objectCount = new DataView(idx.buffer, idx.byteOffset).getUint32(8 + 255 * 4);
  const firstCrc = 8 + 256 * 4 + objectCount * 20;
  return resealed(nativeCodec, withByteFlipped(idx, firstCrc));
}

for (const runner of RUNNERS) {
  describe(`pack commands from the ${runner.name}`, () => {
    function stategit(args: string[], cwd: string) {
      const result = Bun.spawnSync([...runner.command, ...args], { cwd, env: { PATH: process.env.PATH ?? "" }, stdout: "pipe", stderr: "pipe" });
      return { status: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
    }

    /** A failure prints one line on stderr, naming the command and the reason, and nothing on stdout. */
    function expectFailure(result: ReturnType<typeof stategit>, status: number, command: string, reason: string | RegExp) {
      expect({ status: result.status, stdout: result.stdout }).toEqual({ status, stdout: "" });
      expect(result.stderr).toMatch(new RegExp(`^stategit: ${command}: [^\\n]+\\n$`));
      expect(result.stderr).toMatch(reason);
    }

    test("index-pack writes git's .idx byte for byte and prints the pack checksum", () => {
      const dir = directoryWith({ "pack-test.pack": fixture.pack });
      const result = stategit(["index-pack", "pack-test.pack"], dir);
      const checksum = fixture.packPath.match(/pack-([0-9a-f]{40})\.pack$/)?.[1];
      expect(result).toEqual({ status: 0, stdout: `${checksum}\n`, stderr: "" });
      expect(readFileSync(join(dir, "pack-test.idx")).equals(fixture.idx)).toBe(true);
      expect(readdirSync(dir).sort()).toEqual(["pack-test.idx", "pack-test.pack"]);
    });

    test("index-pack replaces a stale .idx", () => {
      const dir = directoryWith({ "a.pack": otherPack, "a.idx": fixture.idx });
      expect(stategit(["index-pack", join(dir, "a.pack")], workDir.path).status).toBe(0);
      expect(new Uint8Array(readFileSync(join(dir, "a.idx")))).toEqual(gitIdx(otherPack));
    });

    test("index-pack refuses a thin pack, naming a missing base, and writes nothing", () => {
      const dir = directoryWith({ "thin.pack": thinPack });
      const result = stategit(["index-pack", "thin.pack"], dir);
      expectFailure(result, 1, "index-pack", /thin\.pack: thin pack, delta base [0-9a-f]{40} is not in the pack/);
      const base = result.stderr.match(/base ([0-9a-f]{40})/)?.[1] ?? "";
      expect(gitText(["cat-file", "-t", base], { cwd: fixture.gitDir })).not.toBe("");
      expect(readdirSync(dir)).toEqual(["thin.pack"]);
    });

    // The fixture's commits carry the time they were made, so which stream the flipped byte lands
    // in, and how zlib notices, varies between runs.
    const FLIPPED_BYTE_ERROR = /flipped\.pack: object at offset \d+(: corrupt zlib stream| inflates to \d+ bytes, its header declares \d+)/;

    test("index-pack refuses a corrupt or truncated pack and writes nothing", () => {
      const dir = directoryWith({ "flipped.pack": withByteFlipped(fixture.pack, fixture.pack.length >> 1), "short.pack": fixture.pack.subarray(0, -1000) });
      expectFailure(stategit(["index-pack", "flipped.pack"], dir), 1, "index-pack", FLIPPED_BYTE_ERROR);
      expectFailure(stategit(["index-pack", "short.pack"], dir), 1, "index-pack", /short\.pack: object at offset \d+: .*unexpected end/);
      expect(readdirSync(dir).sort()).toEqual(["flipped.pack", "short.pack"]);
    });

    test("verify-pack accepts git's pack and index, silently, and -v summarises as git verify-pack -s", () => {
      const dir = directoryWith({ "good.pack": fixture.pack, "good.idx": fixture.idx });
      expect(stategit(["verify-pack", "good.idx"], dir)).toEqual({ status: 0, stdout: "", stderr: "" });
      expect(stategit(["verify-pack", "good.pack"], dir)).toEqual({ status: 0, stdout: "", stderr: "" });
      const verbose = stategit(["verify-pack", "-v", "good.idx"], dir);
      expect(verbose.status).toBe(0);
      const histogram = (text: string) => text.split("\n").filter((line) => /^(non delta|chain length)/.test(line));
      expect(histogram(verbose.stdout)).toEqual(histogram(gitText(["verify-pack", "-s", fixture.packPath])));
      expect(verbose.stdout).toMatch(/^\d+ objects \(commit \d+, tree \d+, blob \d+, tag \d+\), \d+ deltas\n/);
      expect(verbose.stdout.endsWith("good.pack: ok\n")).toBe(true);
      expect(stategit(["verify-pack", "--verbose", "good.idx"], dir).stdout).toBe(verbose.stdout);
    });

    test("verify-pack refuses damaged packs and indexes with exit 1 and the reason", () => {
      const idx = fixture.idx;
      const dir = directoryWith({
        "flipped.pack": withByteFlipped(fixture.pack, fixture.pack.length >> 1),
        "flipped.idx": idx,
        "short.pack": fixture.pack.subarray(0, -1000),
        "short.idx": idx,
        "crc.pack": fixture.pack,
        "crc.idx": idxWithWrongCrc(idx),
        "other.pack": fixture.pack,
        "other.idx": gitIdx(otherPack),
        "sealed.pack": fixture.pack,
        "sealed.idx": withByteFlipped(idx, idx.length - 30),
        "trailer.pack": withByteFlipped(fixture.pack, fixture.pack.length - 1),
        "trailer.idx": idx,
        "lonely.idx": idx,
      });
      const verify = (name: string) => stategit(["verify-pack", name], dir);
      expectFailure(verify("flipped.idx"), 1, "verify-pack", FLIPPED_BYTE_ERROR);
      expectFailure(verify("short.idx"), 1, "verify-pack", /short\.pack: object at offset \d+: .*unexpected end/);
      expectFailure(verify("crc.idx"), 1, "verify-pack", /crc\.pack: index CRC-32 of [0-9a-f]{40} is [0-9a-f]+, the pack entry's is [0-9a-f]+/);
      expectFailure(verify("other.idx"), 1, "verify-pack", /other\.pack: index is for pack [0-9a-f]{40}, the pack's checksum is [0-9a-f]{40}/);
      expectFailure(verify("sealed.idx"), 1, "verify-pack", /sealed\.pack: corrupt pack index/);
      expectFailure(verify("trailer.idx"), 1, "verify-pack", /trailer\.pack: pack trailer checksum mismatch/);
      expectFailure(verify("lonely.idx"), 1, "verify-pack", /cannot read lonely\.pack: no such file or directory/);
    });

    test("bad usage exits with status 2 and one line", () => {
      const dir = directoryWith({ "x.pack": fixture.pack, "x.idx": fixture.idx, "x.txt": fixture.pack });
      expectFailure(stategit(["index-pack"], dir), 2, "index-pack", "expected FILE.pack, got 0");
      expectFailure(stategit(["index-pack", "x.pack", "x.pack"], dir), 2, "index-pack", "got 2");
      expectFailure(stategit(["index-pack", "x.txt"], dir), 2, "index-pack", "expected a file name ending in .pack");
      expectFailure(stategit(["index-pack", "missing.pack"], dir), 2, "index-pack", "cannot read missing.pack: no such file or directory");
      expectFailure(stategit(["index-pack", "--threads=1", "x.pack"], dir), 2, "index-pack", "--threads");
      expectFailure(stategit(["verify-pack"], dir), 2, "verify-pack", "expected FILE.idx, got 0");
      expectFailure(stategit(["verify-pack", "x.idx", "x.idx"], dir), 2, "verify-pack", "got 2");
      expectFailure(stategit(["verify-pack", "x.txt"], dir), 2, "verify-pack", "expected a file name ending in .idx or .pack");
      expectFailure(stategit(["verify-pack", "missing.idx"], dir), 2, "verify-pack", "cannot read missing.idx");
      expectFailure(stategit(["verify-pack", "-s", "x.idx"], dir), 2, "verify-pack", "-s");
      expect(readdirSync(dir).sort()).toEqual(["x.idx", "x.pack", "x.txt"]);
    });

    test("--help describes both commands", () => {
      const help = stategit(["--help"], workDir.path);
      expect(help.stdout).toContain("index-pack FILE.pack");
      expect(help.stdout).toContain("verify-pack FILE.idx");
      const indexHelp = stategit(["index-pack", "--help"], workDir.path);
      expect(indexHelp.status).toBe(0);
      expect(indexHelp.stdout).toContain("Usage: stategit index-pack FILE.pack");
      expect(indexHelp.stdout).toContain("thin pack");
      const verifyHelp = stategit(["verify-pack", "--help"], workDir.path);
      expect(verifyHelp.status).toBe(0);
      expect(verifyHelp.stdout).toContain("-v, --verbose");
      expect(verifyHelp.stdout).toContain("Exit status");
    });
  });
}
