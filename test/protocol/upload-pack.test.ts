import { describe, expect, test } from "bun:test";
import { PktLineBuilder } from "../../src/git/pktline/index.ts";
import { uploadPack } from "../../src/protocol/upload-pack.ts";
import type { ProtocolVersion } from "../../src/protocol/version.ts";
import { gitText } from "../support/git.ts";
import { useHistory } from "./fixtures.ts";
import { oracleUploadPack } from "./oracle.ts";
import { demux, packObjectIds, readAll, type DemuxedResponse } from "./response.ts";

const history = useHistory();
const UNKNOWN = "1234567890123456789012345678901234567890";

const rev = (name: string) => gitText(["rev-parse", name], { cwd: history.repo });

function v0Body(wants: string[], capabilities: string, rest: Array<string | 0>, before: string[] = []): Uint8Array {
  const out = new PktLineBuilder();
  wants.forEach((want, i) => out.text(i === 0 ? `want ${want} ${capabilities}` : `want ${want}`));
  for (const line of before) out.text(line);
  out.flush();
  for (const line of rest) {
    if (line === 0) out.flush();
    else out.text(line);
  }
  return out.toBytes();
}

async function ours(body: Uint8Array, protocolVersion: ProtocolVersion = 0): Promise<DemuxedResponse> {
  return demux(await readAll(uploadPack(history.snapshot, body, { protocolVersion })));
}

function theirs(body: Uint8Array, protocol = ""): DemuxedResponse {
  return demux(oracleUploadPack(history.repo, body, protocol));
}

/** Same negotiation lines as git, and a pack with the same objects (checked by index-pack). */
async function expectSameAsGit(body: Uint8Array, protocol: { version: ProtocolVersion; header: string } = { version: 0, header: "" }) {
  const mine = await ours(body, protocol.version);
  const reference = theirs(body, protocol.header);
  expect(mine.lines).toEqual(reference.lines);
  expect(mine.errors).toBe("");
  expect(packObjectIds(mine.pack)).toEqual(packObjectIds(reference.pack));
  expect(mine.flushed).toBe(reference.flushed);
  return mine;
}

describe("v0 negotiation, line for line as git", () => {
  const detailed = "multi_ack_detailed side-band-64k ofs-delta no-progress";

  test.each([
    ["common have, flush: ready then NAK", detailed, () => [`have ${rev("main~3")}`, 0]],
    ["common have, no-done: ready, NAK, ACK, pack", `${detailed} no-done`, () => [`have ${rev("main~3")}`, 0]],
    ["unknown then common: no ready at the flush", `${detailed} no-done`, () => [`have ${UNKNOWN}`, `have ${rev("main~3")}`, 0]],
    ["common then unknown: ACK unknown ready", `${detailed} no-done`, () => [`have ${rev("main~3")}`, `have ${UNKNOWN}`, 0]],
    ["a parent of an earlier have is already known", detailed, () => [`have ${rev("main~2")}`, `have ${rev("main~3")}`, 0]],
    ["done after haves: final ACK and pack", detailed, () => [`have ${rev("main~4")}`, `have ${rev("topic")}`, "done"]],
    ["done without haves: NAK and the whole pack", detailed, () => ["done"]],
    ["only unknown haves: NAK", detailed, () => [`have ${UNKNOWN}`, 0]],
    ["multi_ack: continue", "multi_ack side-band-64k no-progress", () => [`have ${rev("main~3")}`, `have ${UNKNOWN}`, 0]],
    ["multi_ack done", "multi_ack side-band-64k no-progress", () => [`have ${rev("main~3")}`, "done"]],
    ["no multi_ack: one ACK for the first common", "side-band-64k no-progress", () => [`have ${rev("main~3")}`, `have ${rev("main~4")}`, 0]],
    ["no multi_ack, done", "side-band-64k no-progress", () => [`have ${rev("main~3")}`, "done"]],
    ["no side-band: the bare pack", "multi_ack_detailed ofs-delta", () => [`have ${rev("main~3")}`, "done"]],
    ["small side-band", "multi_ack_detailed side-band no-progress", () => ["done"]],
  ])("%s", async (_name, capabilities, rest) => {
    await expectSameAsGit(v0Body([rev("main")], capabilities, rest() as Array<string | 0>));
  });

  test("several wants, a tag among them, include-tag", async () => {
    await expectSameAsGit(v0Body([rev("main"), rev("topic"), rev("v1")], `${detailed} include-tag`, [`have ${rev("main~4")}`, "done"]));
  });

  test("progress is sent on band 2 unless no-progress", async () => {
    const response = await ours(v0Body([rev("main")], "multi_ack_detailed side-band-64k ofs-delta", ["done"]));
    expect(response.progress).toMatch(/Enumerating objects: \d+, done\.\n/);
    expect(response.progress).toMatch(/Counting objects: 100% \((\d+)\/\1\), done\.\n/);
    expect(response.progress).toMatch(/Total \d+ \(delta \d+\), reused \d+ \(delta \d+\), pack-reused 0\n$/);
  });

  test("wants alone (a client reading the shallow list first) get nothing", async () => {
    const body = v0Body([rev("main")], detailed, []);
    expect(await readAll(uploadPack(history.snapshot, body, { protocolVersion: 0 }))).toEqual(oracleUploadPack(history.repo, body));
  });
});

describe("v0 shallow", () => {
  const capabilities = "multi_ack_detailed side-band-64k ofs-delta no-progress shallow";

  test.each([
    ["deepen 1", () => ["deepen 1"]],
    ["deepen 2 from a shallow client", () => [`shallow ${rev("main~2")}`, "deepen 3"]],
    ["unshallow everything", () => [`shallow ${rev("main~1")}`, "deepen 2147483647"]],
    ["deepen-since", () => [`deepen-since ${1700000000 + 4 * 86400}`]],
    ["deepen-not", () => ["deepen-not v1"]],
  ])("%s: shallow section, then negotiation", async (_name, lines) => {
    await expectSameAsGit(v0Body([rev("main")], capabilities, ["done"], lines()));
    await expectSameAsGit(v0Body([rev("main")], capabilities, [], lines()));
  });

  test("deepen-relative", async () => {
    await expectSameAsGit(v0Body([rev("main")], `${capabilities} deepen-relative`, ["done"], [`shallow ${rev("main~1")}`, "deepen 2"]));
  });

  test("a shallow client fetching new commits gets nothing behind its boundary", async () => {
    await expectSameAsGit(v0Body([rev("main")], capabilities, [`have ${rev("main~1")}`, "done"], [`shallow ${rev("main~1")}`]));
  });
});

describe("v0 partial clone", () => {
  test.each(["blob:none", "blob:limit=400", "tree:0", "tree:1", "combine:blob:none+tree:2"])("filter %s", async (spec) => {
    await expectSameAsGit(v0Body([rev("main")], "multi_ack_detailed side-band-64k ofs-delta no-progress filter", ["done"], [`filter ${spec}`]));
  });

  test("a lazy fetch of one blob by id, not a ref tip", async () => {
    const blob = rev("main~2:memory.md");
    await expectSameAsGit(v0Body([blob], "multi_ack_detailed side-band-64k ofs-delta no-progress filter", ["done"], ["filter blob:none"]));
  });
});

describe("v0 refusals", () => {
  test.each([
    ["an object we do not have", () => UNKNOWN, `ERR upload-pack: not our ref ${UNKNOWN}`],
  ])("%s", async (_name, want, message) => {
    const response = await ours(v0Body([want()], "side-band-64k", ["done"]));
    expect(response.lines).toEqual([message]);
  });

  test("an object no ref reaches is not ours", async () => {
    const { snapshot } = history;
    const withoutTopic = { ...snapshot, refs: new Map([...snapshot.refs].filter(([name]) => name !== "refs/heads/topic")) };
    const body = v0Body([rev("topic")], "side-band-64k", ["done"]);
    const response = demux(await readAll(uploadPack(withoutTopic, body, { protocolVersion: 0 })));
    expect(response.lines).toEqual([`ERR upload-pack: not our ref ${rev("topic")}`]);
  });

  test.each([
    [new TextEncoder().encode("0009want"), "declares 9 bytes"],
    [new PktLineBuilder().text("want x").flush().toBytes(), "expected an object id"],
    [new PktLineBuilder().text(`want ${"a".repeat(40)} filter`).text("filter sparse:oid=x").flush().toBytes(), "not supported"],
    [new TextEncoder().encode("zzzz"), "bad pkt-line length"],
  ])("malformed request %#: an ERR packet", async (body, message) => {
    const response = await ours(body);
    expect(response.lines).toHaveLength(1);
    expect(response.lines[0]).toMatch(new RegExp(`^ERR .*(${message})`));
  });
});

function v2Body(command: string, args: string[]): Uint8Array {
  const out = new PktLineBuilder().text(`command=${command}`).text("object-format=sha1").delim();
  for (const arg of args) out.text(arg);
  return out.flush().toBytes();
}

describe("v2 fetch, section for section as git", () => {
  const v2 = { version: 2 as const, header: "version=2" };

  test.each([
    ["haves, not done: acknowledgments with ready, then the pack", () => [`want ${rev("main")}`, `have ${rev("main~3")}`, "ofs-delta", "no-progress"]],
    ["haves without a common commit: NAK and flush", () => [`want ${rev("main")}`, `have ${UNKNOWN}`, "no-progress"]],
    ["wait-for-done: no ready", () => [`want ${rev("main")}`, `have ${rev("main~3")}`, "wait-for-done", "no-progress"]],
    ["done: no acknowledgments", () => [`want ${rev("main")}`, `have ${rev("main~3")}`, "done", "no-progress"]],
    ["clone", () => [`want ${rev("main")}`, `want ${rev("topic")}`, "done", "ofs-delta", "thin-pack", "include-tag", "no-progress"]],
    ["shallow-info for deepen", () => [`want ${rev("main")}`, "deepen 2", "done", "no-progress"]],
    ["shallow-info for a shallow client", () => [`want ${rev("main")}`, `shallow ${rev("main~1")}`, `have ${rev("main~1")}`, "done", "no-progress"]],
    ["deepen-since", () => [`want ${rev("main")}`, `deepen-since ${1700000000 + 3 * 86400}`, "done", "no-progress"]],
    ["filter", () => [`want ${rev("main")}`, "filter blob:none", "done", "no-progress"]],
    ["want-ref", () => ["want-ref refs/heads/main", "want-ref refs/tags/v1", "done", "no-progress"]],
  ])("%s", async (_name, args) => {
    await expectSameAsGit(v2Body("fetch", args()), v2);
  });

  test("ls-refs through the same entry point", async () => {
    const body = v2Body("ls-refs", ["symrefs", "peel", "ref-prefix refs/heads/"]);
    expect(await readAll(uploadPack(history.snapshot, body, { protocolVersion: 2 }))).toEqual(oracleUploadPack(history.repo, body, "version=2"));
  });

  test("an empty request gets an empty answer, never response-end", async () => {
    expect((await readAll(uploadPack(history.snapshot, new Uint8Array(0), { protocolVersion: 2 }))).length).toBe(0);
  });

  test.each([
    [v2Body("frobnicate", []), "ERR invalid command 'frobnicate'"],
    [v2Body("fetch", ["bogus"]), "ERR unexpected line: 'bogus'"],
    [v2Body("fetch", ["want-ref refs/heads/nope", "done"]), "ERR unknown ref refs/heads/nope"],
    [v2Body("fetch", [`want ${UNKNOWN}`, "done"]), `ERR upload-pack: not our ref ${UNKNOWN}`],
    [v2Body("fetch", [`want ${"a".repeat(40)}`, "filter blob:nope"]), "ERR invalid filter-spec 'blob:nope'"],
    [v2Body("fetch", ["want-ref refs/heads/main", "deepen 1", "deepen-since 5"]), "ERR deepen and deepen-since (or deepen-not) cannot be used together"],
    [v2Body("fetch", ["deepen-not nope", "want-ref refs/heads/main"]), "ERR deepen-not is not a ref: nope"],
  ])("refusal %#", async (body, message) => {
    expect((await ours(body, 2)).lines).toEqual([message]);
  });
});

describe("failures while packing", () => {
  /** The snapshot with one blob of main unreadable: found by the walk, missing to the writer. */
  const withUnreadableBlob = () => {
    const { snapshot } = history;
    const broken = rev("main:memory.md");
    const objects = { ...snapshot.objects, readObject: (oid: string) => (oid === broken ? undefined : snapshot.objects.readObject(oid)) };
    return { broken, snapshot: { ...snapshot, objects } };
  };

  test("are reported on side-band 3 and end the stream", async () => {
    const { broken, snapshot } = withUnreadableBlob();
    const body = v0Body([rev("main")], "multi_ack_detailed side-band-64k ofs-delta", ["done"]);
    const response = demux(await readAll(uploadPack(snapshot, body, { protocolVersion: 0 })));
    expect(response.errors).toBe(`upload-pack: missing object ${broken}\n`);
    expect(response.flushed).toBe(false);
  });

  test("without side-band, the stream errors", async () => {
    const { snapshot } = withUnreadableBlob();
    const body = v0Body([rev("main")], "multi_ack_detailed ofs-delta", ["done"]);
    await expect(readAll(uploadPack(snapshot, body, { protocolVersion: 0 }))).rejects.toThrow(/missing object/);
  });
});
