import { expect, test } from "bun:test";
import { nativeCodec } from "../../../src/git/codec/index.ts";
import { GitError } from "../../../src/git/errors.ts";
import type { GitObject, ObjectReader } from "../../../src/git/object/object.ts";
import type { Oid } from "../../../src/git/oid.ts";
import { allReachable, computeShallow, findMissing, isAncestor, listObjects } from "../../../src/git/walk/index.ts";
import { gitText } from "../../support/git.ts";
import { seededRandom } from "../../support/random.ts";
import { openDatabase } from "../odb/repository.ts";
import { history } from "./history.ts";

const gitDir = history({ commits: 400, files: 60, edits: 2, topicEvery: 25 });
const database = openDatabase(gitDir, nativeCodec);
const resolve = (name: string): Oid => gitText(["rev-parse", name], { cwd: gitDir });

/**
 * The repository as corrupt storage would serve it: some objects' bytes mutated or truncated
 * (ids no longer match content, so tags may even name themselves), consistently per object.
 */
function corrupted(seed: number): ObjectReader {
  const random = seededRandom(seed);
  const decided = new Map<Oid, GitObject | undefined>();
  const readObject = (oid: Oid): GitObject | undefined => {
    if (decided.has(oid)) return decided.get(oid);
    let object = database.readObject(oid);
    if (object && object.type !== "blob" && random() < 0.08) {
      const data = object.data.slice();
      if (random() < 0.3) object = { type: object.type, data: data.subarray(0, Math.floor(random() * data.length)) };
      else {
        for (let i = 0; i < 1 + Math.floor(random() * 3); i++) data[Math.floor(random() * data.length)] = Math.floor(random() * 256);
        if (object.type === "tag" && random() < 0.5) data.set(new TextEncoder().encode(`object ${oid}`));
        object = { type: object.type, data };
      }
    }
    decided.set(oid, object);
    return object;
  };
  return { readObject, hasObject: (oid) => readObject(oid) !== undefined };
}

test("walks over corrupt objects end in typed errors or results, never crashes or hangs", () => {
  const main = resolve("main");
  const operations: ((reader: ObjectReader) => unknown)[] = [
    (reader) => listObjects({ reader, include: [main, resolve("nested"), resolve("topic13")], exclude: [resolve("main~20")] }),
    (reader) => listObjects({ reader, include: [main], filter: { kind: "tree", depth: 2 } }),
    (reader) => findMissing(reader, [main, resolve("v350")], [resolve("main~30")]),
    (reader) => isAncestor(reader, resolve("main~50"), main),
    (reader) => computeShallow(reader, [main], { depth: 4, clientShallow: [resolve("main~2")] }),
    (reader) => computeShallow(reader, [main], { deepenNot: [resolve("v300")] }),
    (reader) => allReachable(reader, [main, resolve("topic2")], [resolve("main~9")]),
  ];
  let failures = 0;
  for (let seed = 1; seed <= 25; seed++) {
    for (const operation of operations) {
      try {
        operation(corrupted(seed * 31 + operations.indexOf(operation)));
      } catch (error) {
        if (!(error instanceof GitError)) throw error;
        failures++;
      }
    }
  }
  expect(failures).toBeGreaterThan(0);
});
