import { describe, expect, test } from "bun:test";
import { GitError } from "../../../src/git/errors.ts";
import { parseLooseObject, parsePackedRefs, parseRefFile } from "../../../src/git/gitdir/index.ts";
import { hashObject, isObjectType } from "../../../src/git/object/object.ts";
import { isOid } from "../../../src/git/oid.ts";
import { seededRandom } from "../../support/random.ts";
import { CODECS } from "../codecs.ts";

const ITERATIONS = 2000;
const ID = "0123456789abcdef0123456789abcdef01234567";
const PEELED = "89abcdef0123456789abcdef0123456789abcdef";

/** A copy of `bytes`, truncated at random, with a few bytes replaced or inserted. */
function mutate(bytes: Uint8Array, random: () => number): Uint8Array {
  const out = [...bytes.subarray(0, Math.floor(random() * (bytes.length + 2)))];
  for (let edits = 1 + Math.floor(random() * 3); edits > 0; edits--) {
    const at = Math.floor(random() * (out.length + 1));
    const byte = random() < 0.5 ? Math.floor(random() * 256) : " \n^#:/0af".charCodeAt(Math.floor(random() * 9));
    if (random() < 0.5 && at < out.length) out[at] = byte;
    else out.splice(at, 0, byte);
  }
  return new Uint8Array(out);
}

/** Runs `parse`; a failure must be a GitError. Returns whether it parsed. */
function parsedOrRefused<T>(parse: () => T, check: (value: T) => void): boolean {
  let value: T;
  try {
    value = parse();
  } catch (error) {
    expect(error).toBeInstanceOf(GitError);
    return false;
  }
  check(value);
  return true;
}

test("mutated packed-refs and ref files parse into well-formed refs or are refused with a GitError", () => {
  const random = seededRandom(0x9ac4ed);
  const packed = new TextEncoder().encode(`# pack-refs with: peeled fully-peeled sorted \n${ID} refs/heads/main\n${ID} refs/tags/v1\n^${PEELED}\n`);
  const loose = new TextEncoder().encode(`${ID}\n`);
  const symbolic = new TextEncoder().encode("ref: refs/heads/main\n");
  const outcomes = { parsed: 0, refused: 0 };
  for (let i = 0; i < ITERATIONS; i++) {
    const ok = parsedOrRefused(
      () => parsePackedRefs(mutate(packed, random)),
      (refs) => {
        for (const { name, oid } of refs) {
          expect(isOid(oid)).toBe(true);
          expect(name.length).toBeGreaterThan(0);
          expect(name).not.toContain("\n");
        }
        expect(new Set(refs.map(({ name }) => name)).size).toBe(refs.length);
      },
    );
    outcomes[ok ? "parsed" : "refused"]++;
    parsedOrRefused(
      () => parseRefFile(mutate(random() < 0.5 ? loose : symbolic, random)),
      (value) => {
        if (value.kind === "direct") expect(isOid(value.oid)).toBe(true);
        else expect(value.target).toMatch(/^\S+$/);
      },
    );
  }
  expect(outcomes.parsed).toBeGreaterThan(0);
  expect(outcomes.refused).toBeGreaterThan(0);
});

describe.each(CODECS)("loose object fuzz (%s)", (_, codec) => {
  test("mutated files, and mutated content deflated afresh, are refused with a GitError unless they still hash to the id", () => {
    const random = seededRandom(0x1005e);
    const content = new TextEncoder().encode("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\n\nmessage\n");
    const oid = hashObject(codec, "commit", content);
    const raw = new Uint8Array([...new TextEncoder().encode(`commit ${content.length}\0`), ...content]);
    const file = codec.deflate(raw);
    for (let i = 0; i < ITERATIONS / 4; i++) {
      const candidate = random() < 0.5 ? mutate(file, random) : codec.deflate(mutate(raw, random));
      parsedOrRefused(
        () => parseLooseObject(oid, candidate, codec, 4096),
        (object) => {
          expect(isObjectType(object.type)).toBe(true);
          expect(hashObject(codec, object.type, object.data)).toBe(oid);
        },
      );
    }
  });
});
