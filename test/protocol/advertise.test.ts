import { describe, expect, test } from "bun:test";
import { ZERO_OID } from "../../src/git/oid.ts";
import { advertise } from "../../src/protocol/advertise.ts";
import { AGENT } from "../../src/protocol/agent.ts";
import { parseProtocolVersion } from "../../src/protocol/version.ts";
import type { RepositorySnapshot } from "../../src/protocol/snapshot.ts";
import { git } from "../support/git.ts";
import { useHistory, ORACLE_CONFIG } from "./fixtures.ts";
import { describePackets } from "./packets.ts";
import { mapReader } from "./repository.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const GIT_AGENT = /agent=git\/[^ \n]+/;

const history = useHistory();

/** git upload-pack's own advertisement, with git's agent replaced by ours. */
function oracleAdvertisement(dir: string, protocol: string): string[] {
  const output = git([...ORACLE_CONFIG, "upload-pack", "--advertise-refs", "--stateless-rpc", dir], { env: { GIT_PROTOCOL: protocol } }).stdout;
  return describePackets(output).map((line) => line.replace(GIT_AGENT, `agent=${AGENT}`));
}

const emptySnapshot: RepositorySnapshot = { head: "refs/heads/main", refs: new Map(), objects: mapReader(new Map()) };

describe("v0 and v1", () => {
  test("upload-pack advertises like git: HEAD first, peeled tags, symref, capabilities after NUL", () => {
    const ours = describePackets(advertise(history.snapshot, "git-upload-pack", 0));
    expect(ours.slice(0, 2)).toEqual(["# service=git-upload-pack\n", "0000"]);
    expect(ours.slice(2)).toEqual(oracleAdvertisement(history.repo, ""));
    expect(ours.some((line) => line.endsWith(" refs/tags/v1^{}\n"))).toBe(true);
  });

  test("v1 adds `version 1` after the service line", () => {
    const ours = describePackets(advertise(history.snapshot, "git-upload-pack", 1));
    expect(ours.slice(2)).toEqual(oracleAdvertisement(history.repo, "version=1"));
    expect(ours[2]).toBe("version 1\n");
  });

  test("an empty repository advertises capabilities^{} with the zero id, byte for byte (git >= 2.41 does too)", () => {
    const capabilities =
      "multi_ack thin-pack side-band side-band-64k ofs-delta shallow deepen-since deepen-not deepen-relative" +
      " no-progress include-tag multi_ack_detailed allow-tip-sha1-in-want allow-reachable-sha1-in-want no-done" +
      ` filter object-format=sha1 agent=${AGENT}`;
    const line = `${ZERO_OID} capabilities^{}\0${capabilities}\n`;
    expect(text(advertise(emptySnapshot, "git-upload-pack", 0))).toBe(
      `001e# service=git-upload-pack\n0000${(line.length + 4).toString(16).padStart(4, "0")}${line}0000`,
    );
  });

  test("receive-pack lists refs without HEAD or peeled tags, with push capabilities", () => {
    const lines = describePackets(advertise(history.snapshot, "git-receive-pack", 0));
    expect(lines[0]).toBe("# service=git-receive-pack\n");
    expect(lines[2]).toBe(
      `${history.snapshot.refs.get("refs/heads/main")} refs/heads/main\0report-status report-status-v2 delete-refs side-band-64k quiet atomic ofs-delta push-options object-format=sha1 agent=${AGENT}\n`,
    );
    expect(lines.slice(3, -1)).toEqual([...history.snapshot.refs.keys()].sort().slice(1).map((name) => `${history.snapshot.refs.get(name)} ${name}\n`));
    const gitLines = describePackets(git(["receive-pack", "--advertise-refs", "--stateless-rpc", history.repo]).stdout);
    expect(lines.slice(3)).toEqual(gitLines.slice(1));
  });

  test("push asked for v2 still gets v0", () => {
    expect(text(advertise(history.snapshot, "git-receive-pack", 2))).toBe(text(advertise(history.snapshot, "git-receive-pack", 0)));
  });
});

describe("v2", () => {
  test("the capability advertisement, byte for byte", () => {
    const agentLine = `agent=${AGENT}\n`;
    expect(text(advertise(history.snapshot, "git-upload-pack", 2))).toBe(
      "000eversion 2\n" +
        `${(agentLine.length + 4).toString(16).padStart(4, "0")}${agentLine}` +
        "0013ls-refs=unborn\n" +
        "0033fetch=shallow wait-for-done filter ref-in-want\n" +
        "0012server-option\n" +
        "0017object-format=sha1\n" +
        "0000",
    );
  });

  test("matches git's own v2 advertisement but for object-info", () => {
    const ours = describePackets(advertise(history.snapshot, "git-upload-pack", 2));
    const theirs = oracleAdvertisement(history.repo, "version=2").filter((line) => !line.startsWith("object-info"));
    expect(ours).toEqual(theirs);
  });
});

test("Git-Protocol header parsing: the highest listed version wins", () => {
  expect(parseProtocolVersion(null)).toBe(0);
  expect(parseProtocolVersion("version=2")).toBe(2);
  expect(parseProtocolVersion("version=1")).toBe(1);
  expect(parseProtocolVersion("foo=bar:version=2:version=1")).toBe(2);
  expect(parseProtocolVersion("version=3")).toBe(0);
});
