import { afterAll, describe, expect, test } from "bun:test";
import {
  commitTime,
  commitTreeAndParents,
  decodeObjectText,
  findHeader,
  fsckObject,
  hashObject,
  parseCommit,
  parseTag,
  parseTree,
  serializeTree,
  treeEntryName,
  type TreeEntry,
} from "../../../src/git/object/index.ts";
import { CODECS } from "../codecs.ts";
import { git, gitText } from "../../support/git.ts";
import { seededRandom } from "../../support/random.ts";
import { buildFixtureRepo, type StoredObject } from "./fixture.ts";
import { reserialize } from "./hostile.ts";

const repo = buildFixtureRepo();
afterAll(repo.cleanup);
const ofType = (type: StoredObject["type"]) => repo.objects.filter((object) => object.type === type);
const text = (bytes: Uint8Array | null) => (bytes === null ? null : new TextDecoder().decode(bytes));
const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

test("the fixture holds every shape of object", () => {
  expect(ofType("tree").length).toBeGreaterThan(10);
  expect(ofType("commit").length).toBeGreaterThan(10);
  expect(ofType("tag").length).toBe(7);
});

describe.each(CODECS)("object ids with the %s codec", (_, codec) => {
  test("hashObject of git's bytes is git's object id", () => {
    for (const object of repo.objects) expect(hashObject(codec, object.type, object.data)).toBe(object.oid);
  });
});

test("every object git wrote passes fsck", () => {
  for (const object of repo.objects) fsckObject(object.type, object.data);
});

test("trees: serialize(parse(bytes)) is the bytes, also from shuffled entries", () => {
  const random = seededRandom(7);
  for (const { data } of ofType("tree")) {
    const entries = parseTree(data);
    expect(serializeTree(entries)).toEqual(data);
    const shuffled = entries.map((entry) => [random(), entry] as const).sort((a, b) => a[0] - b[0]).map(([, entry]) => entry);
    expect(serializeTree(shuffled)).toEqual(data);
  }
});

test("trees: entries match git ls-tree (modes, raw names, ids)", () => {
  for (const { oid, data } of ofType("tree")) {
    const listing = git(["ls-tree", "-z", oid], { cwd: repo.path }).stdout;
    const expected: TreeEntry[] = [];
    for (let offset = 0; offset < listing.length; ) {
      const end = listing.indexOf(0, offset);
      const tab = listing.indexOf(0x09, offset);
      const [mode, , entryOid] = new TextDecoder().decode(listing.subarray(offset, tab)).split(" ");
      expected.push({ mode: parseInt(mode, 8), name: listing.slice(tab + 1, end), oid: entryOid });
      offset = end + 1;
    }
    const actual: TreeEntry[] = parseTree(data).map((entry) => ({ mode: entry.mode, name: entry.name.slice(), oid: entry.oid }));
    expect(actual).toEqual(expected);
  }
  const names = ofType("tree").flatMap(({ data }) => parseTree(data));
  expect(names.some((entry) => entry.mode === 0o160000 && treeEntryName(entry) === "sub")).toBe(true);
  expect(names.some((entry) => entry.mode === 0o120000)).toBe(true);
  expect(names.some((entry) => entry.mode === 0o100755)).toBe(true);
  expect(names.some((entry) => entry.name.includes(0xe9))).toBe(true);
});

test("commits: serialize(parse(bytes)) is the bytes; fields match git log", () => {
  const commits = ofType("commit");
  const log = gitText(["log", "--no-walk=unsorted", "--stdin", "--date=raw", "--format=%H %T %ad %cd %P"], { cwd: repo.path, input: commits.map((c) => c.oid).join("\n") });
  const expected = new Map(log.split("\n").map((line) => {
    const [oid, tree, authorTime, authorZone, committerTime, committerZone, ...parents] = line.split(" ");
    return [oid, { tree, parents: parents.filter((parent) => parent !== ""), author: [Number(authorTime), authorZone], committer: [Number(committerTime), committerZone] }];
  }));
  for (const { oid, data } of commits) {
    const commit = parseCommit(data);
    expect(reserialize("commit", data)).toEqual(data);
    const want = expected.get(oid);
    expect({
      tree: commit.tree,
      parents: commit.parents,
      // git log prints the zone as a number, so "-0000" comes out as "+0000".
      author: [commit.author.timestamp, commit.author.timezone.replace("-0000", "+0000")],
      committer: [commit.committer.timestamp, commit.committer.timezone.replace("-0000", "+0000")],
    }).toEqual(want as NonNullable<typeof want>);
    expect(commitTreeAndParents(data)).toEqual({ tree: commit.tree, parents: commit.parents });
    expect(commitTime(data)).toBe(commit.committer.timestamp);
  }
  expect(commits.some((commit) => parseCommit(commit.data).parents.length === 3)).toBe(true);
});

test("commits: gpgsig, mergetag, encoding and unknown headers keep their order and raw bytes", () => {
  const signed = parseCommit(git(["cat-file", "commit", "refs/heads/signed"], { cwd: repo.path }).stdout);
  expect(signed.headers.map((header) => header.key)).toEqual(["encoding", "mergetag", "x-unknown-header", "gpgsig"]);
  expect(signed.author.name).toEqual(latin1("Ren\xe9 Fran\xe7ois"));
  expect(signed.committer.name).toEqual(new Uint8Array());
  expect(signed.committer.timezone).toBe("-0000");
  expect(decodeObjectText(signed, signed.author.name)).toBe("René François");
  expect(decodeObjectText(signed, signed.message)).toBe("Merge tag 'signed-merge'\n\nCafé.\n");
  expect(text(findHeader(signed.headers, "gpgsig") ?? null)).toStartWith("-----BEGIN PGP SIGNATURE-----\n\niQIz");
  const mergetag = findHeader(signed.headers, "mergetag") as Uint8Array;
  const tag = parseTag(Uint8Array.from([...mergetag, 0x0a]));
  expect(text(tag.tag)).toBe("signed-merge");
  expect(text(tag.message)).toStartWith("merge me\n-----BEGIN PGP SIGNATURE-----\n\niQIz");

  const encoded = parseCommit(git(["cat-file", "commit", "main"], { cwd: repo.path }).stdout);
  expect(text(findHeader(encoded.headers, "encoding") ?? null)).toBe("ISO-8859-1");
  expect(encoded.message).toEqual(latin1("caf\xe9 cr\xe8me\n"));
  expect(decodeObjectText(encoded, encoded.message)).toBe("café crème\n");

  const bodyless = parseCommit(git(["cat-file", "commit", "refs/heads/bodyless"], { cwd: repo.path }).stdout);
  expect(bodyless.message).toBeNull();
  const emptyMessage = parseCommit(git(["cat-file", "commit", "refs/heads/empty-root"], { cwd: repo.path }).stdout);
  expect(emptyMessage.message).toEqual(new Uint8Array());
});

test("tags: serialize(parse(bytes)) is the bytes; fields match git for-each-ref", () => {
  const refs = gitText(["for-each-ref", "--format=%(objectname) %(object) %(type) %(tag)", "refs/tags"], { cwd: repo.path });
  const expected = new Map(refs.split("\n").filter((line) => line.split(" ")[1] !== "").map((line) => {
    const [oid, object, type, name] = line.split(" ");
    return [oid, { object, type, tag: name }];
  }));
  for (const { oid, data } of ofType("tag")) {
    const tag = parseTag(data);
    expect(reserialize("tag", data)).toEqual(data);
    expect({ object: tag.object, type: tag.type as string, tag: text(tag.tag) }).toEqual(expected.get(oid) as { object: string; type: string; tag: string });
  }
  const tags = ofType("tag").map(({ data }) => parseTag(data));
  expect(new Set(tags.map((tag) => tag.type))).toEqual(new Set(["commit", "tree", "blob", "tag"]));
  expect(tags.find((tag) => text(tag.tag) === "old")?.tagger).toBeNull();
  expect(tags.find((tag) => text(tag.tag) === "bodyless")?.message).toBeNull();
});
