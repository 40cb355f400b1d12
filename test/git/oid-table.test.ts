import { expect, test } from "bun:test";
import { OidTable } from "../../src/git/oid-table.ts";
import { OID_BYTES, oidToHex } from "../../src/git/oid.ts";
import { seededRandom } from "../support/random.ts";

function randomIds(count: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length: count * OID_BYTES }, () => Math.floor(random() * 256));
}

test("ids are numbered in insertion order, found raw or as hex, and added once", () => {
  const ids = randomIds(5000, 1);
  const table = new OidTable();
  for (let i = 0; i < 5000; i++) expect(table.addAt(ids, i * OID_BYTES)).toBe(i);
  expect(table.size).toBe(5000);
  for (let i = 0; i < 5000; i++) {
    const hex = oidToHex(ids, i * OID_BYTES);
    expect(table.findAt(ids, i * OID_BYTES)).toBe(i);
    expect(table.find(hex)).toBe(i);
    expect(table.add(hex)).toBe(i);
    expect(table.oidOf(i)).toBe(hex);
  }
  expect(table.size).toBe(5000);
  const absent = randomIds(200, 2);
  for (let i = 0; i < 200; i++) expect(table.findAt(absent, i * OID_BYTES)).toBe(-1);
  expect(() => table.oidOf(5000)).toThrow(RangeError);
});

test("ids that share the hashed bytes are told apart by the rest", () => {
  const table = new OidTable();
  const ids = new Uint8Array(100 * OID_BYTES);
  for (let i = 0; i < 100; i++) ids[i * OID_BYTES + 19] = i;
  for (let i = 0; i < 100; i++) expect(table.addAt(ids, i * OID_BYTES)).toBe(i);
  for (let i = 0; i < 100; i++) expect(table.findAt(ids, i * OID_BYTES)).toBe(i);
  expect(table.find("00".repeat(19) + "ff")).toBe(-1);
});

test("a table over stored ids numbers them by position and can grow past them", () => {
  const ids = randomIds(1000, 3);
  const table = new OidTable(ids, 1000);
  for (let i = 0; i < 1000; i++) expect(table.findAt(ids, i * OID_BYTES)).toBe(i);
  const more = randomIds(10, 4);
  expect(table.addAt(more, 0)).toBe(1000);
  expect(table.findAt(more, 0)).toBe(1000);
  expect(table.findAt(ids, 999 * OID_BYTES)).toBe(999);
});
