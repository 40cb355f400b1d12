import { describe, expect, test } from "bun:test";
import { CorruptDataError } from "../../src/git/errors.ts";
import { parseLegacyManifest } from "../../src/repo/legacy-manifest.ts";
import { seededRandom } from "../support/random.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);
const PACK = `pack-${"c".repeat(40)}`;

const encode = (value: unknown) => new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));
const valid = { version: 1, generation: 3, head: "refs/heads/main", refs: { "refs/heads/main": A, "refs/tags/v1": B }, packs: [PACK] };

describe("legacy manifest.json", () => {
  test("accepts the documented shape", () => {
    expect(parseLegacyManifest(encode(valid))).toEqual({
      generation: 3,
      head: "refs/heads/main",
      refs: new Map([["refs/heads/main", A], ["refs/tags/v1", B]]),
      packs: [PACK],
    });
  });

  test.each([
    ["not JSON", "{"],
    ["not an object", "[]"],
    ["null", "null"],
    ["unknown field", { ...valid, extra: 1 }],
    ["missing version", { ...valid, version: undefined }],
    ["future version", { ...valid, version: 2 }],
    ["negative generation", { ...valid, generation: -1 }],
    ["fractional generation", { ...valid, generation: 1.5 }],
    ["string generation", { ...valid, generation: "1" }],
    ["head outside refs/", { ...valid, head: "HEAD" }],
    ["bad ref name", { ...valid, refs: { "refs/heads/a..b": A } }],
    ["one-level ref", { ...valid, refs: { "refs/main": A } }],
    ["short object id", { ...valid, refs: { "refs/heads/main": "abc" } }],
    ["upper-case object id", { ...valid, refs: { "refs/heads/main": A.toUpperCase() } }],
    ["zero object id", { ...valid, refs: { "refs/heads/main": "0".repeat(40) } }],
    ["refs as array", { ...valid, refs: [] }],
    ["packs as object", { ...valid, packs: {} }],
    ["bad pack name", { ...valid, packs: ["pack-xyz"] }],
    ["duplicate pack", { ...valid, packs: [PACK, PACK] }],
  ])("rejects %s", (_label, value) => {
    expect(() => parseLegacyManifest(encode(value))).toThrow(CorruptDataError);
  });

  test("rejects invalid UTF-8", () => {
    expect(() => parseLegacyManifest(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(CorruptDataError);
  });

  test("fuzz: mutated and truncated manifests parse or throw CorruptDataError", () => {
    const random = seededRandom(20240601);
    const original = encode(JSON.stringify(valid, null, 1));
    for (let i = 0; i < 2000; i++) {
      const bytes = original.slice(0, random() < 0.3 ? Math.floor(random() * original.length) : original.length);
      const flips = 1 + Math.floor(random() * 4);
      for (let j = 0; j < flips && bytes.length > 0; j++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      try {
        parseLegacyManifest(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(CorruptDataError);
      }
    }
  });
});
