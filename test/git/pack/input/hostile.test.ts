import { describe, expect, test } from "bun:test";
import type { Codec } from "../../../../src/git/codec/codec.ts";
import { CorruptDataError, GitError, LimitExceededError, MissingObjectError } from "../../../../src/git/errors.ts";
import { hashObject } from "../../../../src/git/object/object.ts";
import { PackObjectKind } from "../../../../src/git/pack/format.ts";
import { indexPack, type IndexPackOptions } from "../../../../src/git/pack/input/index.ts";
import type { PackLimits } from "../../../../src/git/pack/types.ts";
import { CODECS } from "../../codecs.ts";
import { buildDelta, buildPack, expectGitError, resealed, text, type EntrySpec } from "./pack-builder.ts";

/** The typed error `indexPack` throws, checked for its class and, when given, its code. */
function refusal<T extends GitError>(
  codec: Codec,
  pack: Uint8Array,
  expected: abstract new (...args: never[]) => T,
  code?: string,
  options: Partial<IndexPackOptions> = {},
): T {
  return expectGitError(() => indexPack(pack, { codec, ...options }), expected, code);
}

const hello = text("hello, world\n");
const blob = (data: Uint8Array): EntrySpec => ({ kind: PackObjectKind.Blob, data });

describe.each(CODECS)("indexPack refuses hostile packs (%s)", (_, codec) => {
  const pack = (entries: EntrySpec[], objectCount?: number) => buildPack(codec, entries, { objectCount }).pack;
  const valid = pack([blob(hello), blob(text("second\n"))]);

  test("a pack that is well-formed is accepted (the baseline for every case below)", () => {
    expect(indexPack(valid, { codec }).entries.map((entry) => entry.oid).sort()).toEqual(
      [hashObject(codec, "blob", hello), hashObject(codec, "blob", text("second\n"))].sort(),
    );
  });

  test("not a pack, or an unknown version", () => {
    refusal(codec, text("GARBAGE GARBAGE GARBAGE GARBAGE GARBAGE"), CorruptDataError, "pack.signature");
    const version9 = valid.slice();
    version9[7] = 9;
    refusal(codec, resealed(codec, version9), CorruptDataError, "pack.version");
  });

  test("an object declaring 4 GiB fails fast, at the limit or when the data runs out", () => {
    const huge = pack([{ kind: PackObjectKind.Blob, data: hello, declaredSize: 2 ** 32 }]);
    refusal(codec, huge, LimitExceededError, "pack.object-size");
    const raised: Partial<PackLimits> = { maxObjectSize: 2 ** 32, maxInflatedBytes: 2 ** 40 };
    refusal(codec, huge, CorruptDataError, "pack.object-size", { limits: raised });
  });

  test("an object that inflates to more or less than its header says", () => {
    refusal(codec, pack([{ ...blob(hello), declaredSize: hello.length - 1 }]), CorruptDataError, "pack.object-size");
    refusal(codec, pack([{ ...blob(hello), declaredSize: hello.length + 1 }]), CorruptDataError, "pack.object-size");
  });

  test("a delta that copies outside its base, or names the wrong base size", () => {
    const outside = buildDelta(hello.length, 8, [{ copy: [10, 8] }]);
    refusal(codec, pack([blob(hello), { kind: PackObjectKind.OfsDelta, base: 0, data: outside }]), CorruptDataError, "delta.copy-range");
    const wrongBase = buildDelta(hello.length + 1, 4, [{ copy: [0, 4] }]);
    refusal(codec, pack([blob(hello), { kind: PackObjectKind.OfsDelta, base: 0, data: wrongBase }]), CorruptDataError, "delta.base-size");
  });

  test("an OFS_DELTA whose base offset is not the start of an object", () => {
    const { pack: built, offsets } = buildPack(codec, [blob(hello), { kind: PackObjectKind.OfsDelta, base: 0, data: buildDelta(hello.length, 1, [{ insert: text("x") }]) }]);
    // Re-point the one-byte distance at the middle of the blob.
    const bytes = built.slice();
    const distanceAt = offsets[1] + 1;
    bytes[distanceAt] -= 1;
    refusal(codec, resealed(codec, bytes), CorruptDataError, "pack.delta-offset");
  });

  test("a REF_DELTA cycle: each delta's base is the other's result", () => {
    const a = text("version a\n");
    const b = text("version b\n");
    const aFromB = buildDelta(b.length, a.length, [{ insert: a }]);
    const bFromA = buildDelta(a.length, b.length, [{ insert: b }]);
    const cycle = pack([
      { kind: PackObjectKind.RefDelta, baseOid: hashObject(codec, "blob", b), data: aFromB },
      { kind: PackObjectKind.RefDelta, baseOid: hashObject(codec, "blob", a), data: bFromA },
    ]);
    const error = refusal(codec, cycle, MissingObjectError, "object.missing");
    expect([hashObject(codec, "blob", a), hashObject(codec, "blob", b)]).toContain(error.oid);
    expect(error.message).toContain("2 objects are unresolved");
  });

  test("a thin pack whose base is missing names that base", () => {
    const missing = "3".repeat(40);
    const thin = pack([blob(hello), { kind: PackObjectKind.RefDelta, baseOid: missing, data: buildDelta(5, 1, [{ insert: text("x") }]) }]);
    const reader = { hasObject: () => false, readObject: () => undefined };
    expect(refusal(codec, thin, MissingObjectError, "object.missing", { thinBases: reader }).oid).toBe(missing);
    expect(refusal(codec, thin, MissingObjectError).oid).toBe(missing);
  });

  test("an object count that disagrees with the entries", () => {
    refusal(codec, pack([blob(hello), blob(text("second\n"))], 3), CorruptDataError, "pack.truncated");
    refusal(codec, pack([blob(hello), blob(text("second\n"))], 1), CorruptDataError, "pack.trailing-bytes");
    refusal(codec, pack([blob(hello)], 0xffffffff), LimitExceededError, "pack.object-count");
    refusal(codec, pack([blob(hello)], 0xffffffff), CorruptDataError, "pack.object-count", { limits: { maxObjectCount: 2 ** 32 } });
  });

  test("a bad trailer checksum, bytes after the trailer, truncation", () => {
    const badTrailer = valid.slice();
    badTrailer[badTrailer.length - 1] ^= 1;
    refusal(codec, badTrailer, CorruptDataError, "pack.checksum");
    const trailing = new Uint8Array(valid.length + 3);
    trailing.set(valid);
    refusal(codec, trailing, CorruptDataError);
    for (let length = 0; length < valid.length; length += 3) refusal(codec, valid.subarray(0, length), CorruptDataError);
  });

  test("an invalid object type", () => {
    const bytes = valid.slice();
    bytes[12] = (bytes[12] & 0x8f) | (5 << 4);
    refusal(codec, resealed(codec, bytes), CorruptDataError, "pack.kind");
  });

  test("the same object twice, as git index-pack --strict does", () => {
    refusal(codec, pack([blob(hello), blob(hello)]), CorruptDataError, "pack.duplicate");
  });

  test("limits on objects, delta results and total inflated bytes", () => {
    const big = new Uint8Array(4096).fill(7);
    refusal(codec, pack([blob(big)]), LimitExceededError, "pack.object-size", { limits: { maxObjectSize: 4095 } });
    const grows = buildDelta(big.length, 8192, [{ copy: [0, 4096] }, { copy: [0, 4096] }]);
    const growing = pack([blob(big), { kind: PackObjectKind.OfsDelta, base: 0, data: grows }]);
    refusal(codec, growing, LimitExceededError, "delta.result-size", { limits: { maxObjectSize: 5000 } });
    refusal(codec, growing, LimitExceededError, "pack.inflated-size", { limits: { maxInflatedBytes: 4096 + grows.length + 100 } });
    refusal(codec, pack([blob(big), blob(text("x"))]), LimitExceededError, "pack.inflated-size", { limits: { maxInflatedBytes: 4096 } });
    refusal(codec, valid, LimitExceededError, "pack.object-count", { limits: { maxObjectCount: 1 } });
  });
});
