import { describe, expect, test } from "bun:test";
import { PktLineBuilder } from "../../src/git/pktline/index.ts";
import { ProtocolError } from "../../src/protocol/errors.ts";
import { INFINITE_DEPTH } from "../../src/git/walk/index.ts";
import { parseV0FetchRequest, parseV2FetchArgs } from "../../src/protocol/fetch-request.ts";
import { parseFilterSpec } from "../../src/protocol/filter.ts";
import { parseV2Request } from "../../src/protocol/v2-request.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);

function body(...lines: Array<string | 0>): Uint8Array {
  const out = new PktLineBuilder();
  for (const line of lines) {
    if (line === 0) out.flush();
    else out.text(line);
  }
  return out.toBytes();
}

function refusal(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return (error as ProtocolError).message;
  }
  throw new Error("expected a ProtocolError");
}

describe("v0 requests", () => {
  test("wants with capabilities, shallow and deepen lines, haves and done", () => {
    const request = parseV0FetchRequest(
      body(
        `want ${A} multi_ack_detailed no-done side-band-64k thin-pack ofs-delta include-tag agent=git/2.39 filter deepen-relative`,
        `want ${B}`,
        `shallow ${C}`,
        "deepen 3",
        "filter blob:limit=2k",
        0,
        `have ${C}`,
        `have ${B}`,
        "done",
      ),
    );
    expect(request).toMatchObject({
      wants: [A, B],
      shallows: [C],
      depth: 3,
      haves: [C, B],
      ending: "done",
      done: true,
      multiAck: "multi_ack_detailed",
      noDone: true,
      sideBand: 65515,
      thinPack: true,
      ofsDelta: true,
      includeTag: true,
      noProgress: false,
      deepenRelative: true,
      filter: { kind: "blob:limit", limit: 2048 },
    });
  });

  test("the ending: none (wants only), flush, end of input, done", () => {
    expect(parseV0FetchRequest(body(`want ${A}`, 0)).ending).toBe("none");
    expect(parseV0FetchRequest(body(`want ${A}`, 0, `have ${B}`, 0)).ending).toBe("flush");
    expect(parseV0FetchRequest(body(`want ${A}`, 0, `have ${B}`)).ending).toBe("flush");
    expect(parseV0FetchRequest(body(`want ${A} side-band`, 0, "done")).sideBand).toBe(995);
  });

  test("lines after the ending are ignored, as git's stateless upload-pack ignores them", () => {
    expect(parseV0FetchRequest(body(`want ${A}`, 0, `have ${B}`, 0, "garbage")).haves).toEqual([B]);
  });

  test("an empty body or a lone flush asks for nothing", () => {
    expect(parseV0FetchRequest(body(0)).wants).toEqual([]);
  });

  test.each([
    [[`want ${A.slice(1)}`, 0], "expected an object id"],
    [[`want ${A}x`, 0], "expected an object id"],
    [[`want ${A} filter`, "filter blob:none", "filter tree:0", 0], "multiple filter-specs"],
    [[`want ${A}`, "filter blob:none", 0], "filtering capability not negotiated"],
    [[`want ${A}`, "deepen 0", 0], "Invalid deepen"],
    [[`want ${A}`, "deepen -1", 0], "invalid deepen"],
    [[`want ${A}`, "deepen-since yesterday", 0], "invalid deepen-since"],
    [[`want ${A}`, "hello", 0], "expected to get object ID"],
    [[`want ${A}`, 0, `have ${B}`, "what"], "expected SHA1 list"],
    [[`want ${A}`, 0, `have ${B} extra`], "expected an object id"],
  ])("%p is refused: %s", (lines, message) => {
    expect(refusal(() => parseV0FetchRequest(body(...(lines as Array<string | 0>))))).toContain(message);
  });

  test("deepen beyond git's infinite depth is clamped to it", () => {
    expect(parseV0FetchRequest(body(`want ${A}`, "deepen 9999999999", 0)).depth).toBe(INFINITE_DEPTH);
  });
});

describe("v2 requests", () => {
  test("command, capabilities and arguments", () => {
    const request = new PktLineBuilder()
      .text("command=fetch")
      .text("agent=git/2.39")
      .text("object-format=sha1")
      .text("server-option=hello")
      .delim()
      .text("thin-pack")
      .text(`want ${A}`)
      .flush()
      .toBytes();
    expect(parseV2Request(request)).toEqual({ command: "fetch", serverOptions: ["hello"], args: ["thin-pack", `want ${A}`] });
  });

  test("a command without arguments ends at the flush; an empty body is no request", () => {
    expect(parseV2Request(new PktLineBuilder().text("command=ls-refs").flush().toBytes())).toEqual({ command: "ls-refs", serverOptions: [], args: [] });
    expect(parseV2Request(new Uint8Array(0))).toBeUndefined();
    expect(parseV2Request(body(0))).toBeUndefined();
  });

  test.each([
    [["command=push"], "invalid command 'push'"],
    [["command=fetch", "command=ls-refs"], "already requesting"],
    [["frobnicate"], "unknown capability 'frobnicate'"],
    [["command=fetch", "object-format=sha256"], "mismatched object format"],
    [["agent=x"], "no command requested"],
  ])("%p is refused", (lines, message) => {
    const request = new PktLineBuilder();
    for (const line of lines) request.text(line);
    expect(refusal(() => parseV2Request(request.flush().toBytes()))).toContain(message);
  });

  test("a request cut before its flush is refused with a typed error", () => {
    const cut = new PktLineBuilder().text("command=fetch").delim().text(`want ${A}`).toBytes();
    expect(() => parseV2Request(cut)).toThrow(/end of pkt-line stream/);
  });

  test("fetch arguments", () => {
    const request = parseV2FetchArgs([
      `want ${A}`,
      "want-ref refs/heads/main",
      `have ${B}`,
      "thin-pack",
      "no-progress",
      "ofs-delta",
      "include-tag",
      "wait-for-done",
      "done",
      `shallow ${C}`,
      "deepen-since 1700000000",
      "deepen-not refs/tags/v1",
      "deepen-relative",
      "filter tree:0",
    ]);
    expect(request).toMatchObject({
      wants: [A],
      wantRefs: ["refs/heads/main"],
      haves: [B],
      thinPack: true,
      noProgress: true,
      ofsDelta: true,
      includeTag: true,
      waitForDone: true,
      done: true,
      shallows: [C],
      deepenSince: 1700000000,
      deepenNot: ["refs/tags/v1"],
      deepenRelative: true,
      filter: { kind: "tree", depth: 0 },
      sideBand: 65515,
    });
  });

  test.each([[["sideband-all"]], [["constructor"]], [["want-ref refs/heads/main", "want-ref refs/heads/main"]]])("%p is refused", (args) => {
    expect(() => parseV2FetchArgs(args)).toThrow(ProtocolError);
  });
});

describe("filter specs", () => {
  test.each([
    ["blob:none", { kind: "blob:none" }],
    ["blob:limit=0", { kind: "blob:limit", limit: 0 }],
    ["blob:limit=1m", { kind: "blob:limit", limit: 1048576 }],
    ["tree:0", { kind: "tree", depth: 0 }],
    ["tree:3", { kind: "tree", depth: 3 }],
    ["object:type=blob", { kind: "object:type", type: "blob" }],
    ["combine:blob:none+tree:2", { kind: "combine", filters: [{ kind: "blob:none" }, { kind: "tree", depth: 2 }] }],
    ["combine:blob%3Alimit%3D5+tree:1", { kind: "combine", filters: [{ kind: "blob:limit", limit: 5 }, { kind: "tree", depth: 1 }] }],
  ])("%s", (spec, expected) => {
    expect(parseFilterSpec(spec)).toEqual(expected as ReturnType<typeof parseFilterSpec>);
  });

  test.each(["blob:some", "blob:limit=", "blob:limit=-1", "tree:", "tree:x", "object:type=commitz", "sparse:oid=HEAD", "combine:", "combine:blob:none+a~b", "combine:%zz", "nothing"])(
    "%s is refused",
    (spec) => {
      expect(() => parseFilterSpec(spec)).toThrow(ProtocolError);
    },
  );

  test("combine nesting is bounded", () => {
    let spec = "blob:none";
    for (let i = 0; i < 10; i++) spec = `combine:${encodeURIComponent(spec)}`;
    expect(() => parseFilterSpec(spec)).toThrow(ProtocolError);
  });
});
