import { describe, expect, test } from "bun:test";
import type { Codec } from "../../../../src/git/codec/codec.ts";
import { LimitExceededError } from "../../../../src/git/errors.ts";
import { encodePackIndex } from "../../../../src/git/idxfile/index.ts";
import { hashObject } from "../../../../src/git/object/object.ts";
import { PackObjectKind } from "../../../../src/git/pack/format.ts";
import { bytesToEntries } from "../../../../src/git/pack/input/bytes-to-entries.ts";
import { indexPack } from "../../../../src/git/pack/input/index.ts";
import { sortedEntries } from "../../../../src/git/pack/input/index-pack.ts";
import { resolveDeltas } from "../../../../src/git/pack/input/resolve-deltas.ts";
import { DEFAULT_PACK_LIMITS } from "../../../../src/git/pack/types.ts";
import { seededRandom } from "../../../support/random.ts";
import { CODECS } from "../../codecs.ts";
import { gitIndexPack, repoFixture } from "./fixtures.ts";
import { buildDelta, buildPack, type EntrySpec } from "./pack-builder.ts";

const CHAIN_LENGTH = 10_000;
const OBJECT_BYTES = 64;

/** Version `i` of a 64-byte blob: a fixed prefix, then `i` in its last four bytes. */
function version(i: number): Uint8Array {
  const data = new Uint8Array(OBJECT_BYTES).fill(0x61);
  new DataView(data.buffer).setUint32(OBJECT_BYTES - 4, i === 0 ? 0xffffffff : i);
  return data;
}

/** Rewrites the last four bytes of its base: what turns version i - 1 into version i. */
function nextVersionDelta(i: number): Uint8Array {
  return buildDelta(OBJECT_BYTES, OBJECT_BYTES, [{ copy: [0, OBJECT_BYTES - 4] }, { insert: version(i).subarray(OBJECT_BYTES - 4) }]);
}

/** One blob and a chain of CHAIN_LENGTH deltas on it, each based on the previous. */
function chainPack(codec: Codec, kind: "ofs" | "ref"): Uint8Array {
  const entries: EntrySpec[] = [{ kind: PackObjectKind.Blob, data: version(0) }];
  for (let i = 1; i <= CHAIN_LENGTH; i++) {
    entries.push(
      kind === "ofs"
        ? { kind: PackObjectKind.OfsDelta, base: i - 1, data: nextVersionDelta(i) }
        : { kind: PackObjectKind.RefDelta, baseOid: hashObject(codec, "blob", version(i - 1)), data: nextVersionDelta(i) },
    );
  }
  if (kind === "ref") {
    // REF_DELTAs may come in any order, before their bases too.
    const random = seededRandom(99);
    entries.sort(() => random() - 0.5);
  }
  return buildPack(codec, entries).pack;
}

describe.each(CODECS)("delta resolution (%s)", (_, codec) => {
  const deepLimits = { maxDeltaDepth: CHAIN_LENGTH };

  describe.each(["ofs", "ref"] as const)("a chain of 10,000 %s deltas", (kind) => {
    const pack = chainPack(codec, kind);

    test("resolves without recursion once the depth limit allows it, as git does", () => {
      const indexed = indexPack(pack, { codec, limits: deepLimits });
      expect(indexed.entries.length).toBe(CHAIN_LENGTH + 1);
      const ids = new Set(indexed.entries.map((entry) => entry.oid));
      for (const i of [0, 1, 5000, CHAIN_LENGTH]) expect(ids.has(hashObject(codec, "blob", version(i)))).toBe(true);
      expect(encodePackIndex(indexed.entries, indexed.packChecksum, codec)).toEqual(gitIndexPack(pack));
    });

    test("is refused beyond the depth limit", () => {
      expect(() => indexPack(pack, { codec })).toThrow(LimitExceededError);
      expect(() => indexPack(pack, { codec, limits: { maxDeltaDepth: CHAIN_LENGTH - 1 } })).toThrow(LimitExceededError);
    });
  });

  test("with no room to keep bases, every base is rebuilt from the pack and the result is the same", () => {
    const { pack } = repoFixture();
    const limits = { ...DEFAULT_PACK_LIMITS };
    const cached = indexPack(pack, { codec }).entries;
    const uncached = sortedEntries(resolveDeltas(bytesToEntries(pack, codec, limits), codec, limits, undefined, 0));
    expect(uncached).toEqual(cached);
  });
});
