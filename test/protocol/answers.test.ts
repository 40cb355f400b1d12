import { expect, test } from "bun:test";
import { PktLineBuilder } from "../../src/git/pktline/index.ts";
import { advertise } from "../../src/protocol/advertise.ts";
import { snapshotAnswer } from "../../src/protocol/answers.ts";
import type { RepositorySnapshot } from "../../src/protocol/snapshot.ts";
import { uploadPack } from "../../src/protocol/upload-pack.ts";
import { useHistory } from "./fixtures.ts";

const history = useHistory();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function lsRefsRequest(...args: string[]): Uint8Array {
  const request = new PktLineBuilder().text("command=ls-refs").text("object-format=sha1").delim();
  for (const arg of args) request.text(arg);
  return request.flush().toBytes();
}

test("a snapshot's advertisement and ls-refs answers are made once and then shared", () => {
  const snapshot = { ...history.snapshot };
  const advertisement = advertise(snapshot, "git-upload-pack", 0);
  expect(advertise(snapshot, "git-upload-pack", 0)).toBe(advertisement);
  expect(advertise(snapshot, "git-receive-pack", 0)).not.toBe(advertisement);
  const listed = uploadPack(snapshot, lsRefsRequest("peel", "symrefs"), { protocolVersion: 2 });
  expect(uploadPack(snapshot, lsRefsRequest("peel", "symrefs"), { protocolVersion: 2 })).toBe(listed);
  expect(text(uploadPack(snapshot, lsRefsRequest("ref-prefix refs/tags/"), { protocolVersion: 2 }) as Uint8Array)).not.toContain("refs/heads/");
});

test("another snapshot of the repository gets its own answers: a moved ref shows at once", () => {
  const before: RepositorySnapshot = { ...history.snapshot };
  const tag = history.snapshot.refs.get("refs/tags/v1")!;
  const after: RepositorySnapshot = { ...history.snapshot, refs: new Map([...history.snapshot.refs, ["refs/heads/main", tag]]) };
  expect(text(advertise(before, "git-upload-pack", 0))).not.toContain(`${tag} refs/heads/main`);
  expect(text(advertise(after, "git-upload-pack", 0))).toContain(`${tag} refs/heads/main`);
  const answer = (snapshot: RepositorySnapshot) => text(uploadPack(snapshot, lsRefsRequest("ref-prefix refs/heads/"), { protocolVersion: 2 }) as Uint8Array);
  expect(answer(before)).not.toContain(tag);
  expect(answer(after)).toContain(`${tag} refs/heads/main`);
});

test("a client cannot grow a snapshot's answers without bound: past 16 questions, answers are made and not kept", () => {
  const snapshot = { ...history.snapshot };
  let made = 0;
  const ask = (question: number) => snapshotAnswer(snapshot, `question ${question}`, () => new Uint8Array([question, ++made]));
  for (let question = 0; question < 40; question++) expect(ask(question)[0]).toBe(question);
  expect(made).toBe(40);
  for (let question = 0; question < 16; question++) ask(question);
  expect(made).toBe(40);
  expect(ask(20)[1]).toBe(41);
});

test("a request that fails is answered with its error every time, and nothing is kept for it", () => {
  const snapshot = { ...history.snapshot };
  for (let i = 0; i < 2; i++) expect(text(uploadPack(snapshot, lsRefsRequest("bogus"), { protocolVersion: 2 }) as Uint8Array)).toContain("ERR unexpected line: 'bogus'");
});
