import { expect, test } from "bun:test";
import { PktLineBuilder } from "../../src/git/pktline/index.ts";
import { ProtocolError } from "../../src/protocol/errors.ts";
import { lsRefs } from "../../src/protocol/ls-refs.ts";
import type { RepositorySnapshot } from "../../src/protocol/snapshot.ts";
import { useHistory } from "./fixtures.ts";
import { oracleUploadPack } from "./oracle.ts";
import { mapReader } from "./repository.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const history = useHistory();

function gitLsRefs(dir: string, args: string[]): string {
  const request = new PktLineBuilder().text("command=ls-refs").text("object-format=sha1").delim();
  for (const arg of args) request.text(arg);
  return text(oracleUploadPack(dir, request.flush().toBytes(), "version=2"));
}

test.each([
  [[]],
  [["symrefs", "peel"]],
  [["peel", "ref-prefix refs/tags/"]],
  [["symrefs", "unborn", "ref-prefix HEAD", "ref-prefix refs/heads/"]],
  [["ref-prefix refs/heads/ma", "ref-prefix refs/nothing"]],
])("ls-refs %p answers what git answers", (args) => {
  expect(text(lsRefs(history.snapshot, args))).toBe(gitLsRefs(history.repo, args));
});

test("peel and symrefs, byte for byte", () => {
  const main = history.snapshot.refs.get("refs/heads/main")!;
  const tag = history.snapshot.refs.get("refs/tags/v1")!;
  const lines = text(lsRefs(history.snapshot, ["symrefs", "peel", "ref-prefix HEAD", "ref-prefix refs/tags/v"])).match(/[0-9a-f]{4}[^\n]*\n|0000$/g);
  const topicParent = lines![1].match(/peeled:([0-9a-f]{40})/)![1];
  expect(lines).toEqual([
    `0050${main} HEAD symref-target:refs/heads/main\n`,
    `006a${tag} refs/tags/v1 peeled:${topicParent}\n`,
    "0000",
  ]);
});

test("an unborn HEAD is listed only with unborn and symrefs", () => {
  const empty: RepositorySnapshot = { head: "refs/heads/main", refs: new Map(), objects: mapReader(new Map()) };
  expect(text(lsRefs(empty, ["symrefs", "unborn"]))).toBe("002eunborn HEAD symref-target:refs/heads/main\n0000");
  expect(text(lsRefs(empty, ["unborn"]))).toBe("0000");
  expect(text(lsRefs(empty, ["symrefs", "unborn", "ref-prefix refs/"]))).toBe("0000");
});

test("an unknown argument is refused", () => {
  expect(() => lsRefs(history.snapshot, ["peel", "bogus"])).toThrow(ProtocolError);
});
