import { describe, expect, test } from "bun:test";
import { nativeCodec } from "../../../src/git/codec/index.ts";
import { listObjects, type ObjectFilter } from "../../../src/git/walk/index.ts";
import { MissingObjectError } from "../../../src/git/errors.ts";
import type { Oid } from "../../../src/git/oid.ts";
import { gitText } from "../../support/git.ts";
import { openDatabase } from "../odb/repository.ts";
import { history } from "./history.ts";
import { asListed, revListObjects, withoutTagNames } from "./oracle.ts";

const gitDir = history({ commits: 400, files: 60, edits: 2, topicEvery: 25 });
const database = openDatabase(gitDir, nativeCodec);
const resolve = (name: string, dir = gitDir): Oid => gitText(["rev-parse", name], { cwd: dir });
const merges = gitText(["rev-list", "--merges", "main"], { cwd: gitDir }).split("\n");

/** Pairs of (what the client wants, what it has), by rev-parse names. */
const PAIRS: [string[], string[]][] = [
  [["main"], []],
  [["main"], ["main~1"]],
  [["main"], ["main~10"]],
  [["main"], ["v300"]],
  [["topic3"], ["main"]],
  [["main"], ["topic3"]],
  [["topic13", "topic14"], ["main~5"]],
  [["v350"], ["v300"]],
  [["nested"], []],
  [["blobtag", "main"], ["main~2"]],
  [["main^{tree}"], []],
  [["main"], ["main~3^{tree}"]],
  [["main", "topic1"], ["v100", "light140"]],
  [["main~100"], ["main"]],
  [["main", "main"], ["main~40", "main~40"]],
  [["light280"], ["v250", "topic9", "topic2"]],
  [[merges[0]], [`${merges[0]}^1`]],
  [[merges[0]], [`${merges[0]}^2`]],
  [[merges[3]], [`${merges[5]}`]],
  [[merges[1], "topic0"], [`${merges[2]}^2`, "main~200"]],
  [["main:link", "main:notes"], []],
];

function compare(include: string[], exclude: string[], filter?: { spec: string; filter: ObjectFilter }, repository = { gitDir, database }): void {
  const includeIds = include.map((name) => resolve(name, repository.gitDir));
  const excludeIds = exclude.map((name) => resolve(name, repository.gitDir));
  const specs = listObjects({ reader: repository.database, include: includeIds, exclude: excludeIds, filter: filter?.filter });
  const args = [...includeIds, ...excludeIds.map((oid) => `^${oid}`)];
  const expected = revListObjects(repository.gitDir, filter ? [`--filter=${filter.spec}`, ...args] : args);
  expect(asListed(specs)).toEqual(withoutTagNames(expected, specs));
  const firstOther = specs.findIndex((spec) => spec.type !== "commit");
  if (firstOther >= 0) expect(specs.slice(firstOther).some((spec) => spec.type === "commit")).toBe(false);
}

describe("listObjects equals git rev-list --objects", () => {
  for (const [include, exclude] of PAIRS) {
    test(`${include.join(" ")} ^${exclude.join(" ^")}`, () => compare(include, exclude));
  }

  test("excluded ids the repository does not have are ignored", () => {
    const unknown = "0123456789abcdef0123456789abcdef01234567";
    const specs = listObjects({ reader: database, include: [resolve("main")], exclude: [resolve("main~20"), unknown] });
    expect(asListed(specs)).toEqual(revListObjects(gitDir, [resolve("main"), `^${resolve("main~20")}`]));
  });

  test("an included id the repository does not have is a MissingObjectError", () => {
    expect(() => listObjects({ reader: database, include: ["0123456789abcdef0123456789abcdef01234567"] })).toThrow(MissingObjectError);
  });
});

const FILTERS: { spec: string; filter: ObjectFilter }[] = [
  { spec: "blob:none", filter: { kind: "blob:none" } },
  { spec: "blob:limit=0", filter: { kind: "blob:limit", limit: 0 } },
  { spec: "blob:limit=400", filter: { kind: "blob:limit", limit: 400 } },
  { spec: "blob:limit=1k", filter: { kind: "blob:limit", limit: 1024 } },
  { spec: "tree:0", filter: { kind: "tree", depth: 0 } },
  { spec: "tree:1", filter: { kind: "tree", depth: 1 } },
  { spec: "tree:2", filter: { kind: "tree", depth: 2 } },
  { spec: "tree:3", filter: { kind: "tree", depth: 3 } },
  { spec: "object:type=tree", filter: { kind: "object:type", type: "tree" } },
  { spec: "object:type=blob", filter: { kind: "object:type", type: "blob" } },
  { spec: "object:type=commit", filter: { kind: "object:type", type: "commit" } },
  { spec: "object:type=tag", filter: { kind: "object:type", type: "tag" } },
  {
    spec: "combine:blob:none+tree:2",
    filter: { kind: "combine", filters: [{ kind: "blob:none" }, { kind: "tree", depth: 2 }] },
  },
  {
    spec: "combine:blob:limit=400+object:type=blob",
    filter: { kind: "combine", filters: [{ kind: "blob:limit", limit: 400 }, { kind: "object:type", type: "blob" }] },
  },
];

const FILTER_PAIRS: [string[], string[]][] = [
  [["main"], []],
  [["main", "v300"], ["main~30"]],
  [["topic4"], ["main"]],
  [["nested", "blobtag"], []],
  [["main^{tree}", "main:link"], []],
  [["main:notes", "main~50:notes"], []],
];

describe("listObjects with a filter equals git rev-list --objects --filter", () => {
  for (const filter of FILTERS) {
    for (const [include, exclude] of FILTER_PAIRS) {
      test(`--filter=${filter.spec} ${include.join(" ")} ^${exclude.join(" ^")}`, () => compare(include, exclude, filter));
    }
  }
});

describe("listObjects on a history with clock skew equals git rev-list --objects", () => {
  const skewedDir = history({ commits: 300, files: 30, edits: 2, topicEvery: 10, skewEvery: 7 });
  const skewed = { gitDir: skewedDir, database: openDatabase(skewedDir, nativeCodec) };
  const pairs: [string[], string[]][] = [
    [["main"], []],
    [["main"], ["main~7"]],
    [["main"], ["topic3", "topic8"]],
    [["topic20", "topic25"], ["main~3"]],
    [["main~2", "topic1"], ["v200", "main~40"]],
  ];
  for (const [include, exclude] of pairs) {
    test(`${include.join(" ")} ^${exclude.join(" ^")}`, () => compare(include, exclude, undefined, skewed));
  }
});

describe("include-tag", () => {
  test("tags peeling to a sent object are added with the tags they point through", () => {
    const tags = gitText(["for-each-ref", "--format=%(objectname)", "refs/tags"], { cwd: gitDir }).split("\n");
    const specs = listObjects({ reader: database, include: [resolve("main")], exclude: [resolve("v300^{commit}")], includeTags: tags });
    const sentTags = specs.filter((spec) => spec.type === "tag").map((spec) => spec.oid).sort();
    // blobtag's blob is older than v300, so the client has it: only v350 goes.
    expect(sentTags).toEqual([resolve("v350")]);
    const withNested = listObjects({ reader: database, include: [resolve("main")], includeTags: tags });
    expect(withNested.filter((spec) => spec.type === "tag").length).toBe(gitText(["tag", "-l", "v*"], { cwd: gitDir }).split("\n").length + 2);
  });
});
