import { expect, test } from "bun:test";
import { CorruptDataError } from "../../../src/git/errors.ts";
import { commitTime, commitTreeAndParents, fsckObject, type ObjectType } from "../../../src/git/object/index.ts";
import { seededRandom } from "../../support/random.ts";
import { BLOB_OID, commitOf, reserialize, TREE_OID, treeOf, VALID_CASES } from "./hostile.ts";

const signature = "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQIzBAAB\n =wxyz\n -----END PGP SIGNATURE-----\n";
const SEEDS: Uint8Array[] = [
  ...VALID_CASES.map((c) => c.data),
  treeOf([["100644", "a"], ["100755", "b.sh"], ["120000", "link"], ["160000", "sub", "1".repeat(40)], ["40000", "z", TREE_OID]]),
  commitOf(`tree ${TREE_OID}\nparent ${BLOB_OID}\nparent ${TREE_OID}\n`, `author A <a@example.com> 1700000000 +0100\ncommitter C <c@example.com> 1700000001 -0130\nencoding ISO-8859-1\n${signature}\nmessage\n`),
  new TextEncoder().encode(`object ${BLOB_OID}\ntype blob\ntag v1\ntagger T <t@example.com> 1700000000 +0000\n\nrelease\n`),
];
/** Bytes that matter to the grammar, so mutations reach deep branches more often than random bytes. */
const INTERESTING = [0x00, 0x0a, 0x20, 0x3c, 0x3e, 0x2b, 0x2d, 0x30, 0x2f, 0x2e, 0x7e, 0x5c, 0xff, 0xe2];

function mutate(seed: Uint8Array, random: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(random() * n);
  let data = seed.slice();
  for (let edits = 1 + pick(4); edits > 0; edits--) {
    const at = pick(data.length + 1);
    const value = random() < 0.5 ? INTERESTING[pick(INTERESTING.length)] : pick(256);
    const choice = random();
    if (choice < 0.2) data = data.slice(0, at);
    else if (choice < 0.4) data = Uint8Array.from([...data.subarray(0, at), value, ...data.subarray(at)]);
    else if (choice < 0.55) data = Uint8Array.from([...data.subarray(0, at), ...data.subarray(at + 1 + pick(8))]);
    else if (at < data.length) data[at] = value;
  }
  return data;
}

/** Checks `data` as `type`; when fsck accepts it, serializing must give the same bytes back. */
function exercise(type: Exclude<ObjectType, "blob">, data: Uint8Array): boolean {
  try {
    fsckObject(type, data);
  } catch (error) {
    if (!(error instanceof CorruptDataError)) throw error;
    return false;
  }
  expect(reserialize(type, data)).toEqual(data);
  return true;
}

function expectTypedErrorsOnly(action: () => unknown): void {
  try {
    action();
  } catch (error) {
    if (!(error instanceof CorruptDataError)) throw error;
  }
}

test("mutated and truncated objects give a typed error, or pass fsck and round-trip", () => {
  const random = seededRandom(0x0b1ec7);
  let accepted = 0;
  for (let iteration = 0; iteration < 20000; iteration++) {
    const data = mutate(SEEDS[iteration % SEEDS.length], random);
    for (const type of ["tree", "commit", "tag"] as const) {
      if (exercise(type, data)) accepted++;
    }
    expectTypedErrorsOnly(() => commitTreeAndParents(data));
    expectTypedErrorsOnly(() => commitTime(data));
  }
  // Some mutations keep the object valid (in a message, a name): the round trip was exercised.
  expect(accepted).toBeGreaterThan(1000);
});
