import { expect, test } from "bun:test";
import { CorruptDataError } from "../../../src/git/errors.ts";
import { fsckTree, parseTree, TreeEntryCursor, type TreeEntry } from "../../../src/git/object/tree.ts";
import { oidToHex } from "../../../src/git/oid.ts";
import { seededRandom } from "../../support/random.ts";

const MODES = ["100644", "100755", "120000", "40000", "160000", "100664"];
const VALID_MODES = new Set(MODES.map((mode) => parseInt(mode, 8)));

/** A straightforward reference reader: split on SPACE and NUL, no cursor. Undefined where the bytes are not a tree. */
function referenceEntries(data: Uint8Array): { mode: number; name: number[]; oid: string }[] | undefined {
  const entries: { mode: number; name: number[]; oid: string }[] = [];
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space <= offset) return undefined;
    const digits = String.fromCharCode(...data.subarray(offset, space));
    if (!/^[1-7][0-7]*$/.test(digits)) return undefined;
    const mode = parseInt(digits, 8);
    if (!VALID_MODES.has(mode)) return undefined;
    const nul = data.indexOf(0, space + 1);
    if (nul < 0 || nul === space + 1 || nul + 21 > data.length) return undefined;
    entries.push({ mode, name: [...data.subarray(space + 1, nul)], oid: oidToHex(data, nul + 1) });
    offset = nul + 21;
  }
  return entries;
}

function randomTree(random: () => number): Uint8Array {
  const parts: number[] = [];
  const count = Math.floor(random() * 6);
  for (let i = 0; i < count; i++) {
    parts.push(...new TextEncoder().encode(`${MODES[Math.floor(random() * MODES.length)]} `));
    const length = 1 + Math.floor(random() * 8);
    for (let j = 0; j < length; j++) parts.push(0x21 + Math.floor(random() * 90));
    parts.push(0);
    for (let j = 0; j < 20; j++) parts.push(Math.floor(random() * 256));
  }
  return Uint8Array.from(parts);
}

/** Random byte edits: a flipped byte, a cut, a duplicated range. */
function mutate(data: Uint8Array, random: () => number): Uint8Array {
  const bytes = [...data];
  const at = Math.floor(random() * (bytes.length + 1));
  switch (Math.floor(random() * 3)) {
    case 0:
      if (bytes.length > 0) bytes[Math.min(at, bytes.length - 1)] = [0, 0x20, 0x30, 0x38, 0x61][Math.floor(random() * 5)];
      break;
    case 1:
      bytes.length = at;
      break;
    default:
      bytes.splice(at, 0, ...bytes.slice(0, Math.floor(random() * 30)));
  }
  return Uint8Array.from(bytes);
}

function cursorEntries(data: Uint8Array): TreeEntry[] | CorruptDataError {
  const entries: TreeEntry[] = [];
  try {
    for (const cursor = new TreeEntryCursor(data); cursor.next(); ) {
      expect(data[cursor.nameEnd]).toBe(0);
      expect(cursor.oidOffset).toBe(cursor.nameEnd + 1);
      entries.push(cursor.entry);
    }
  } catch (error) {
    if (error instanceof CorruptDataError) return error;
    throw error;
  }
  return entries;
}

test("the cursor reads what a reference reader reads, and refuses what it refuses", () => {
  const random = seededRandom(8);
  for (let iteration = 0; iteration < 3000; iteration++) {
    const tree = randomTree(random);
    const data = iteration % 2 === 0 ? tree : mutate(tree, random);
    const expected = referenceEntries(data);
    const actual = cursorEntries(data);
    if (expected === undefined) {
      expect(actual).toBeInstanceOf(CorruptDataError);
      expect(() => parseTree(data)).toThrow(CorruptDataError);
      continue;
    }
    expect(actual).not.toBeInstanceOf(CorruptDataError);
    const entries = actual as TreeEntry[];
    expect(entries.map(({ mode, name, oid }) => ({ mode, name: [...name], oid }))).toEqual(expected);
    expect(parseTree(data)).toEqual(entries);
  }
});

test("fsckTree hands each accepted entry to its visitor, in order", () => {
  const data = new TextEncoder().encode("100644 a.md\0");
  const tree = Uint8Array.from([...data, ...Array(20).fill(1), ...new TextEncoder().encode("40000 dir\0"), ...Array(20).fill(2)]);
  const seen: string[] = [];
  fsckTree(tree, (cursor) => seen.push(`${cursor.mode.toString(8)} ${new TextDecoder().decode(cursor.name)} ${cursor.oid.slice(0, 4)}`));
  expect(seen).toEqual(["100644 a.md 0101", "40000 dir 0202"]);
});
