import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CorruptDataError } from "../../../src/git/errors.ts";
import { decodePackIndex, encodePackIndex, type PackIndexEntry } from "../../../src/git/idxfile/index.ts";
import { oidToHex } from "../../../src/git/oid.ts";
import { git, tempDir } from "../../support/git.ts";
import { seededRandom } from "../../support/random.ts";
import { CODECS } from "../codecs.ts";
import { repoFixture, showIndex } from "../pack/input/fixtures.ts";

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Offsets on both sides of every boundary the 64-bit table has. */
const LARGE_OFFSETS = [12, 0x7ffffffe, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 32, 2 ** 32 + 5, 2 ** 40 + 7, 2 ** 53 - 1];

describe.each(CODECS)("encodePackIndex (%s)", (_, codec) => {
  test("writes the bytes git index-pack writes for a real pack, from entries in any order", () => {
    const fixture = repoFixture();
    const entries = showIndex(fixture.idx);
    const packChecksum = oidToHex(fixture.pack, fixture.pack.length - 20);
    expect(encodePackIndex(shuffled(entries, 1), packChecksum, codec)).toEqual(fixture.idx);
    expect(encodePackIndex(entries, packChecksum, codec)).toEqual(fixture.idx);
  });

  test("an empty pack's index equals git's", () => {
    const body = Uint8Array.of(0x50, 0x41, 0x43, 0x4b, 0, 0, 0, 2, 0, 0, 0, 0);
    const pack = new Uint8Array(32);
    pack.set(body);
    pack.set(codec.sha1().update(body).digest(), 12);
    const dir = tempDir();
    try {
      writeFileSync(join(dir.path, "empty.pack"), pack);
      git(["index-pack", "-o", join(dir.path, "empty.idx"), join(dir.path, "empty.pack")]);
      const ours = encodePackIndex([], oidToHex(pack, 12), codec);
      expect(ours).toEqual(new Uint8Array(readFileSync(join(dir.path, "empty.idx"))));
      expect(decodePackIndex(ours, codec).objectCount).toBe(0);
      expect(decodePackIndex(ours, codec).findPosition("00".repeat(20))).toBe(-1);
    } finally {
      dir.cleanup();
    }
  });

  test("offsets from 2^31 go to the 64-bit table, and git reads them back", () => {
    const entries: PackIndexEntry[] = LARGE_OFFSETS.map((offset, i) => ({
      oid: oidToHex(codec.sha1().update(Uint8Array.of(i)).digest()),
      offset,
      crc32: (0x9e3779b9 * (i + 1)) >>> 0,
    }));
    const packChecksum = "ab".repeat(20);
    const idx = encodePackIndex(shuffled(entries, 2), packChecksum, codec);
    const largeCount = LARGE_OFFSETS.filter((offset) => offset >= 2 ** 31).length;
    expect(idx.length).toBe(8 + 1024 + entries.length * 28 + largeCount * 8 + 40);

    const sorted = entries.slice().sort((a, b) => (a.oid < b.oid ? -1 : 1));
    expect(showIndex(idx)).toEqual(sorted);
    const decoded = decodePackIndex(idx, codec);
    expect(decoded.packChecksum).toBe(packChecksum);
    for (const entry of entries) {
      const position = decoded.findPosition(entry.oid);
      expect(decoded.oidAt(position)).toBe(entry.oid);
      expect(decoded.offsetAt(position)).toBe(entry.offset);
      expect(decoded.crc32At(position)).toBe(entry.crc32);
      expect(decoded.findOffset(entry.oid)).toBe(entry.offset);
    }
  });

  test("refuses the same id twice", () => {
    const oid = "12".repeat(20);
    expect(() =>
      encodePackIndex(
        [
          { oid, offset: 12, crc32: 1 },
          { oid, offset: 40, crc32: 2 },
        ],
        "00".repeat(20),
        codec,
      ),
    ).toThrow(CorruptDataError);
  });
});
