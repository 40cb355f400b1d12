import { concatBytes } from "../../src/git/bytes.ts";
import { describe, expect, test } from "bun:test";
import { GitError, LimitExceededError } from "../../src/git/errors.ts";
import { ZERO_OID } from "../../src/git/oid.ts";
import { encodePktLine, FLUSH_PKT, PktLineReader, pktLineText } from "../../src/git/pktline/index.ts";
import { ProtocolError } from "../../src/protocol/errors.ts";
import {
  encodeReceivePackResponse,
  handleReceivePack,
  MAX_PUSH_COMMANDS,
  parseReceivePackRequest,
  type PushRequest,
  type ReceivePackCapabilities,
} from "../../src/protocol/receive-pack.ts";
import { seededRandom } from "../support/random.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);
const PACK = new TextEncoder().encode("PACK-bytes-as-they-come");

function concat(...parts: Array<Uint8Array | string>): Uint8Array {
  return concatBytes(parts.map((part) => (typeof part === "string" ? new TextEncoder().encode(part) : part)));
}

const line = (text: string) => encodePktLine(text);
const NO_CAPABILITIES: ReceivePackCapabilities = { reportStatus: false, sideBand64k: false, atomic: false, pushOptions: false, quiet: false };

/** Decodes a response into readable lines: `band N: text` for side-band packets, `flush` for flushes. */
function describeResponse(bytes: Uint8Array, sideBand: boolean): string[] {
  const lines: string[] = [];
  const reader = new PktLineReader(bytes);
  while (!reader.atEnd) {
    const packet = reader.next();
    if (packet.kind !== "data") lines.push(packet.kind);
    else if (!sideBand) lines.push(pktLineText(packet.payload));
    else if (packet.payload[0] === 1) lines.push(...describeResponse(packet.payload.subarray(1), false).map((text) => `band 1: ${text}`));
    else lines.push(`band ${packet.payload[0]}: ${pktLineText(packet.payload.subarray(1))}`);
  }
  return lines;
}

describe("parseReceivePackRequest", () => {
  test("commands, capabilities on the first line, then the pack", () => {
    const body = concat(
      line(`${ZERO_OID} ${A} refs/heads/main\0report-status side-band-64k atomic agent=git/2.39.2\n`),
      line(`${A} ${B} refs/heads/feature/x\n`),
      line(`${B} ${ZERO_OID} refs/tags/v1`),
      FLUSH_PKT,
      PACK,
    );
    const request = parseReceivePackRequest(body)!;
    expect(request.updates).toEqual([
      { oldOid: ZERO_OID, newOid: A, ref: "refs/heads/main" },
      { oldOid: A, newOid: B, ref: "refs/heads/feature/x" },
      { oldOid: B, newOid: ZERO_OID, ref: "refs/tags/v1" },
    ]);
    expect(request.capabilities).toEqual({ reportStatus: true, sideBand64k: true, atomic: true, pushOptions: false, quiet: false, agent: "git/2.39.2" });
    expect(request.pack).toEqual(PACK);
    expect(request.pushOptions).toEqual([]);
  });

  test("push options follow the commands when negotiated", () => {
    const body = concat(line(`${A} ${B} refs/heads/main\0report-status-v2 push-options quiet`), FLUSH_PKT, line("ci.skip\n"), line("note=a b"), FLUSH_PKT);
    const request = parseReceivePackRequest(body)!;
    expect(request.pushOptions).toEqual(["ci.skip", "note=a b"]);
    expect(request.capabilities.reportStatus).toBe(true);
    expect(request.capabilities.quiet).toBe(true);
    expect(request.pack).toBeUndefined();
  });

  test("shallow lines come first and are collected", () => {
    const body = concat(line(`shallow ${B}`), line(`${A} ${B} refs/heads/main\0report-status`), FLUSH_PKT, PACK);
    expect(parseReceivePackRequest(body)!.shallow).toEqual([B]);
  });

  test("upper-case ids are normalised; non-ASCII ref names survive", () => {
    const request = parseReceivePackRequest(concat(line(`${A.toUpperCase()} ${B} refs/heads/fußball\0`), FLUSH_PKT))!;
    expect(request.updates[0]).toEqual({ oldOid: A, newOid: B, ref: "refs/heads/fußball" });
  });

  test("the probe body and an empty body carry no request", () => {
    expect(parseReceivePackRequest(FLUSH_PKT)).toBeUndefined();
    expect(parseReceivePackRequest(new Uint8Array(0))).toBeUndefined();
  });

  test.each([
    ["a short command", concat(line(`${A} ${B}\0report-status`), FLUSH_PKT)],
    ["a command without ref name", concat(line(`${A} ${B} \0`), FLUSH_PKT)],
    ["a bad object id", concat(line(`${A.slice(1)}x ${B} refs/heads/main`), FLUSH_PKT)],
    ["a missing separator", concat(line(`${A}-${B} refs/heads/main`), FLUSH_PKT)],
    ["a sha256 client", concat(line(`${A} ${B} refs/heads/main\0object-format=sha256`), FLUSH_PKT)],
    ["a delim packet", concat(line(`${A} ${B} refs/heads/main`), "0001", FLUSH_PKT)],
    ["shallow lines alone", concat(line(`shallow ${A}`), FLUSH_PKT)],
    ["a ref name that is not UTF-8", concat(line(`${A} ${B} refs/heads/`), FLUSH_PKT).map((byte, i) => (i === 4 + 81 + 11 ? 0xff : byte))],
  ])("refuses %s", (_label, body) => {
    expect(() => parseReceivePackRequest(body)).toThrow(ProtocolError);
  });

  test("a truncated body is a typed error", () => {
    expect(() => parseReceivePackRequest(line(`${A} ${B} refs/heads/main`))).toThrow(GitError);
  });

  test(`more than ${MAX_PUSH_COMMANDS} commands are refused`, () => {
    const command = line(`${A} ${B} refs/heads/main`);
    const body = concat(...Array.from({ length: MAX_PUSH_COMMANDS + 1 }, () => command), FLUSH_PKT);
    expect(() => parseReceivePackRequest(body)).toThrow(LimitExceededError);
  });

  test("fuzz: mutated and truncated bodies parse or throw typed errors", () => {
    const random = seededRandom(0x9ec3);
    const original = concat(
      line(`shallow ${B}`),
      line(`${ZERO_OID} ${A} refs/heads/main\0report-status push-options side-band-64k`),
      line(`${A} ${B} refs/tags/v1\n`),
      FLUSH_PKT,
      line("option"),
      FLUSH_PKT,
      PACK,
    );
    for (let i = 0; i < 3000; i++) {
      const body = original.slice(0, random() < 0.3 ? Math.floor(random() * original.length) : original.length);
      for (let flips = Math.floor(random() * 4); flips > 0 && body.length > 0; flips--) body[Math.floor(random() * body.length)] = Math.floor(random() * 256);
      try {
        parseReceivePackRequest(body);
      } catch (error) {
        expect(error).toBeInstanceOf(GitError);
      }
    }
  });
});

describe("encodeReceivePackResponse", () => {
  const outcome = {
    statuses: [
      { ref: "refs/heads/main", ok: true as const },
      { ref: "refs/heads/x", ok: false as const, reason: "fetch first" },
    ],
    messages: ["warning: the mirror is behind\nit will catch up"],
  };

  test("report-status without side-band: plain pkt-lines and a flush, no messages", () => {
    const bytes = encodeReceivePackResponse({ ...NO_CAPABILITIES, reportStatus: true }, outcome);
    expect(describeResponse(bytes, false)).toEqual(["unpack ok", "ok refs/heads/main", "ng refs/heads/x fetch first", "flush"]);
  });

  test("with side-band-64k: messages on band 2, the report nested in band 1, then a flush", () => {
    const bytes = encodeReceivePackResponse({ ...NO_CAPABILITIES, reportStatus: true, sideBand64k: true }, outcome);
    expect(describeResponse(bytes, true)).toEqual([
      "band 2: warning: the mirror is behind it will catch up",
      "band 1: unpack ok",
      "band 1: ok refs/heads/main",
      "band 1: ng refs/heads/x fetch first",
      "band 1: flush",
      "flush",
    ]);
  });

  test("an unpack error is reported on the unpack line", () => {
    const bytes = encodeReceivePackResponse(
      { ...NO_CAPABILITIES, reportStatus: true },
      { unpackError: "pack checksum mismatch", statuses: [{ ref: "refs/heads/main", ok: false, reason: "unpacker error" }] },
    );
    expect(describeResponse(bytes, false)).toEqual(["unpack pack checksum mismatch", "ng refs/heads/main unpacker error", "flush"]);
  });

  test("without report-status nothing is reported", () => {
    expect(encodeReceivePackResponse(NO_CAPABILITIES, outcome)).toEqual(new Uint8Array(0));
    expect(describeResponse(encodeReceivePackResponse({ ...NO_CAPABILITIES, sideBand64k: true }, outcome), true)).toEqual([
      "band 2: warning: the mirror is behind it will catch up",
      "flush",
    ]);
  });
});

describe("handleReceivePack", () => {
  test("hands the request to the push handler and frames its outcome", async () => {
    let received: PushRequest | undefined;
    const body = concat(line(`${ZERO_OID} ${A} refs/heads/main\0report-status atomic push-options`), FLUSH_PKT, line("x=1"), FLUSH_PKT, PACK);
    const response = await handleReceivePack(body, async (request) => {
      received = request;
      return { statuses: [{ ref: "refs/heads/main", ok: true }] };
    });
    expect(received).toEqual({ updates: [{ oldOid: ZERO_OID, newOid: A, ref: "refs/heads/main" }], pack: PACK, atomic: true, pushOptions: ["x=1"] });
    expect(describeResponse(response, false)).toEqual(["unpack ok", "ok refs/heads/main", "flush"]);
  });

  test("the probe answers nothing and calls nothing", async () => {
    const response = await handleReceivePack(FLUSH_PKT, () => {
      throw new Error("must not be called");
    });
    expect(response.length).toBe(0);
  });

  test("a push from a shallow clone that lacks objects is told about the shallow update", async () => {
    const body = concat(line(`shallow ${B}`), line(`${ZERO_OID} ${A} refs/heads/main\0report-status`), FLUSH_PKT, PACK);
    const response = await handleReceivePack(body, async () => ({ statuses: [{ ref: "refs/heads/main", ok: false, reason: "missing necessary objects" }] }));
    expect(describeResponse(response, false)).toContain("ng refs/heads/main shallow update not allowed");
  });
});
