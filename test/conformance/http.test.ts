/**
 * The HTTP surface of the real server, byte for byte, with fetch(): advertisements and their
 * headers, authentication and routing errors, and receive-pack bodies crafted by hand.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { tempDir } from "../support/git.ts";
import { seededRandom } from "../support/random.ts";
import { expectedRefs, seedAgent, type Seeded } from "./fixtures.ts";
import { CASE_TIMEOUT_MS, commitFiles, concatBytes, demultiplex, FLUSH, GitClient, packetText, parsePktLines, pktLine, StategitServer, type Packet } from "./harness.ts";

const ZERO_OID = "0".repeat(40);

setDefaultTimeout(CASE_TIMEOUT_MS);

let server: StategitServer;
let git: GitClient;
let scratch: { path: string; cleanup: () => void };

beforeAll(async () => {
  scratch = tempDir("stategit-conformance-http-");
  git = new GitClient(2, scratch.path);
  server = await StategitServer.start({ variant: "sources" });
});

afterAll(async () => {
  await server?.stop();
  scratch?.cleanup();
});

const basic = (key: string, user = "letta") => `Basic ${Buffer.from(`${user}:${key}`).toString("base64")}`;

function infoRefs(agent: string, service: string, headers: Record<string, string> = {}, base = "/v1/git"): Promise<Response> {
  return fetch(`${server.plainUrl(agent, base)}/info/refs?service=${service}`, { headers: { Authorization: basic(server.key), ...headers } });
}

/** The advertisement's packets as text, after checking the status and the headers every answer needs. */
async function advertisement(response: Response, service: string): Promise<string[]> {
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe(`application/x-${service}-advertisement`);
  expect(response.headers.get("cache-control")).toContain("no-cache");
  return parsePktLines(new Uint8Array(await response.arrayBuffer())).map(packetText);
}

/** Splits `OID NAME[\0CAPS]` lines; returns the refs and the capabilities of the first line. */
function refAdvertisement(lines: readonly string[]): { refs: Map<string, string>; capabilities: string[] } {
  const refs = new Map<string, string>();
  let capabilities: string[] = [];
  lines.forEach((line, index) => {
    const [refPart, capabilityPart] = line.replace(/\n$/, "").split("\0");
    if (index === 0) capabilities = capabilityPart.split(" ");
    else expect(capabilityPart).toBeUndefined();
    const [oid, name] = refPart.split(" ");
    refs.set(name, oid);
  });
  return { refs, capabilities };
}

describe("advertisements", () => {
  let seeded: Seeded;
  beforeAll(async () => {
    seeded = await seedAgent({ git, server });
  });

  test("upload-pack, v0: # service line, flush, refs with capabilities, peeled tags, flush", async () => {
    const lines = await advertisement(await infoRefs(seeded.agent, "git-upload-pack"), "git-upload-pack");
    expect(lines.slice(0, 2)).toEqual(["# service=git-upload-pack\n", "<flush>"]);
    expect(lines.at(-1)).toBe("<flush>");
    const { refs, capabilities } = refAdvertisement(lines.slice(2, -1));
    expect(lines[2].startsWith(`${refs.get("HEAD")} HEAD\0`)).toBe(true);
    expect(refs).toEqual(await expectedRefs(git, seeded.source));
    for (const capability of ["multi_ack_detailed", "side-band-64k", "thin-pack", "ofs-delta", "shallow", "no-done", "include-tag", "symref=HEAD:refs/heads/main", "filter"]) {
      expect(capabilities).toContain(capability);
    }
    expect(capabilities.some((capability) => capability.startsWith("agent="))).toBe(true);
  });

  test("upload-pack, v2: the capability advertisement only", async () => {
    const lines = await advertisement(await infoRefs(seeded.agent, "git-upload-pack", { "Git-Protocol": "version=2" }), "git-upload-pack");
    expect(lines[0]).toBe("version 2\n");
    expect(lines.at(-1)).toBe("<flush>");
    expect(lines.filter((line) => line === "<flush>").length).toBe(1);
    const capabilities = lines.slice(1, -1).map((line) => line.replace(/\n$/, ""));
    expect(capabilities.some((line) => /^ls-refs(=|$)/.test(line))).toBe(true);
    const fetchLine = capabilities.find((line) => /^fetch(=|$)/.test(line));
    expect(fetchLine?.split("=")[1]?.split(" ")).toEqual(expect.arrayContaining(["shallow", "filter"]));
    expect(capabilities).toContain("object-format=sha1");
    expect(capabilities.some((line) => line.startsWith("agent="))).toBe(true);
  });

  test("upload-pack, v1: version 1 after the # service section", async () => {
    const lines = await advertisement(await infoRefs(seeded.agent, "git-upload-pack", { "Git-Protocol": "version=1" }), "git-upload-pack");
    expect(lines.slice(0, 3)).toEqual(["# service=git-upload-pack\n", "<flush>", "version 1\n"]);
    expect(refAdvertisement(lines.slice(3, -1)).refs).toEqual(await expectedRefs(git, seeded.source));
  });

  test("receive-pack: branches and tags, no HEAD, no peeled lines, push capabilities", async () => {
    for (const protocol of [{}, { "Git-Protocol": "version=2" }] as Record<string, string>[]) {
      const lines = await advertisement(await infoRefs(seeded.agent, "git-receive-pack", protocol), "git-receive-pack");
      expect(lines.slice(0, 2)).toEqual(["# service=git-receive-pack\n", "<flush>"]);
      const { refs, capabilities } = refAdvertisement(lines.slice(2, -1));
      const expected = new Map([...(await expectedRefs(git, seeded.source))].filter(([name]) => name !== "HEAD" && !name.endsWith("^{}")));
      expect(refs).toEqual(expected);
      for (const capability of ["report-status", "delete-refs", "side-band-64k", "ofs-delta", "atomic", "push-options"]) expect(capabilities).toContain(capability);
    }
  });

  test("an empty repository advertises capabilities^{} with the zero id", async () => {
    const agent = server.newAgent();
    for (const service of ["git-upload-pack", "git-receive-pack"]) {
      const lines = await advertisement(await infoRefs(agent, service), service);
      expect(lines.length).toBe(4);
      expect(lines[2].startsWith(`${ZERO_OID} capabilities^{}\0`)).toBe(true);
    }
  });

  test("/git serves the same advertisement as /v1/git", async () => {
    const bytes = async (base: string) => new Uint8Array(await (await infoRefs(seeded.agent, "git-upload-pack", {}, base)).arrayBuffer());
    expect(await bytes("/git")).toEqual(await bytes("/v1/git"));
  });
});

describe("authentication and routing", () => {
  test("401 with a Basic challenge: no credentials, wrong key, malformed header", async () => {
    const agent = server.newAgent();
    for (const authorization of [undefined, basic("sg_0000000000000000_wrong"), "Bearer sg_0000000000000000_wrong", "Bearer", "Basic !!!"]) {
      const headers: Record<string, string> = authorization ? { Authorization: authorization } : {};
      const get = await fetch(`${server.plainUrl(agent)}/info/refs?service=git-upload-pack`, { headers });
      const post = await fetch(`${server.plainUrl(agent)}/git-upload-pack`, {
        method: "POST",
        headers: { ...headers, "Content-Type": "application/x-git-upload-pack-request" },
        body: FLUSH,
      });
      for (const response of [get, post]) {
        expect(response.status).toBe(401);
        expect(response.headers.get("www-authenticate")).toBe('Basic realm="stategit"');
      }
    }
    const clone = await git.fails(["clone", server.url(agent, { key: "sg_0000000000000000_wrong" }), git.dir("denied")]);
    expect(clone.stderr).toContain("Authentication failed");
  });

  test("403 for an unknown service, and for none (the dumb protocol is not served)", async () => {
    const agent = server.newAgent();
    for (const query of ["?service=git-upload-archive", "?service=foo", ""]) {
      const response = await fetch(`${server.plainUrl(agent)}/info/refs${query}`, { headers: { Authorization: basic(server.key) } });
      expect(response.status).toBe(403);
    }
  });

  test("404 for an invalid agent id", async () => {
    for (const agent of ["-leading-dash", "_underscore", "a..b", "x".repeat(129), "sp%20ace"]) {
      const get = await fetch(`${server.plainUrl(agent)}/info/refs?service=git-upload-pack`, { headers: { Authorization: basic(server.key) } });
      expect(get.status).toBe(404);
      const post = await fetch(`${server.plainUrl(agent)}/git-receive-pack`, {
        method: "POST",
        headers: { Authorization: basic(server.key), "Content-Type": "application/x-git-receive-pack-request" },
        body: FLUSH,
      });
      expect(post.status).toBe(404);
    }
  });

  test("a key revoked after use stops working (the Contract allows 5 seconds)", async () => {
    const agent = server.newAgent();
    const key = await server.newKey();
    expect((await infoRefs(agent, "git-upload-pack", { Authorization: basic(key) })).status).toBe(200);
    await server.admin(["key", "revoke", /^sg_([0-9a-f]{16})_/.exec(key)![1]]);
    const deadline = Date.now() + 15_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      status = (await infoRefs(agent, "git-upload-pack", { Authorization: basic(key) })).status;
      if (status === 200) await Bun.sleep(250);
    }
    expect(status).toBe(401);
  });
});

describe("operation", () => {
  test("stategit agent list shows the agents pushed to", async () => {
    const { agent } = await seedAgent({ git, server });
    const listing = await server.admin(["agent", "list", server.org]);
    expect(listing.stdout).toContain(agent);
  });

  test("--trust-org-header: X-Organization-Id stands for credentials, with a warning at start", async () => {
    const trusting = await StategitServer.start({ variant: "sources", flags: ["--trust-org-header"] });
    try {
      expect(trusting.log()).toMatch(/"level":"warn","msg":"--trust-org-header is on/);
      const seeded = await seedAgent({ git, server: trusting });
      const header = ["-c", `http.extraHeader=X-Organization-Id: ${trusting.org}`];
      const clone = git.dir("trusted");
      await git.ok([...header, "clone", "-q", trusting.plainUrl(seeded.agent), clone]);
      expect(await git.revParse(clone, "HEAD")).toBe(await git.revParse(seeded.source, "main"));
      await git.fsck(clone);
      const unknownOrg = await fetch(`${trusting.plainUrl(seeded.agent)}/info/refs?service=git-upload-pack`, { headers: { "X-Organization-Id": "another-org" } });
      expect(unknownOrg.status).toBe(200);
      expect(parsePktLines(new Uint8Array(await unknownOrg.arrayBuffer())).map(packetText)[2]).toStartWith(`${ZERO_OID} capabilities^{}`);
      const badKey = await fetch(`${trusting.plainUrl(seeded.agent)}/info/refs?service=git-upload-pack`, {
        headers: { "X-Organization-Id": trusting.org, Authorization: basic("sg_0000000000000000_wrong") },
      });
      expect(badKey.status).toBe(401);
    } finally {
      await trusting.stop();
    }
  });
});

describe("receive-pack bodies crafted by hand", () => {
  let seeded: Seeded;
  /** A clone with one new commit on main (changing a blob, so its tree is new too). */
  let clone: string;
  let oldTip: string;
  let newTip: string;

  beforeAll(async () => {
    seeded = await seedAgent({ git, server });
    clone = git.dir("crafted");
    await git.ok(["clone", "-q", seeded.url, clone]);
    oldTip = await git.revParse(clone, "HEAD");
    newTip = await commitFiles(git, clone, { "main/log.md": "crafted entry\n" }, "crafted");
  });

  /** A pack of exactly the listed objects, by git pack-objects. */
  async function packOf(objects: readonly string[]): Promise<Uint8Array> {
    const proc = Bun.spawn(["git", "-C", clone, "pack-objects", "--stdout", "-q"], { stdin: new Blob([`${objects.join("\n")}\n`]), stdout: "pipe", stderr: "pipe" });
    const [pack, exitCode] = await Promise.all([new Response(proc.stdout).bytes(), proc.exited]);
    expect(exitCode).toBe(0);
    return pack;
  }

  async function newObjects(): Promise<string[]> {
    return (await git.ok(["-C", clone, "rev-list", "--objects", `${oldTip}..${newTip}`])).split("\n").map((line) => line.split(" ")[0]);
  }

  /** POSTs commands (capabilities on the first) and a pack; returns the report-status lines and side-band messages. */
  async function push(commands: readonly string[], capabilities: string, pack?: Uint8Array): Promise<{ report: string[]; progress: string }> {
    const body = concatBytes([...commands.map((command, i) => pktLine(i === 0 ? `${command}\0${capabilities}` : command)), FLUSH, ...(pack ? [pack] : [])]);
    const response = await fetch(`${server.plainUrl(seeded.agent)}/git-receive-pack`, {
      method: "POST",
      headers: { Authorization: basic(server.key), "Content-Type": "application/x-git-receive-pack-request" },
      body,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/x-git-receive-pack-result");
    let packets: Packet[] = parsePktLines(new Uint8Array(await response.arrayBuffer()));
    let progress = "";
    if (capabilities.includes("side-band-64k")) {
      expect(packets.at(-1)).toBe("flush");
      const bands = demultiplex(packets);
      progress = bands.progress;
      packets = parsePktLines(bands.data);
    }
    expect(packets.at(-1)).toBe("flush");
    return { report: packets.slice(0, -1).map((packet) => packetText(packet).replace(/\n$/, "")), progress };
  }

  async function expectUnchanged(): Promise<void> {
    expect(await git.lsRemote(seeded.url)).toEqual(await expectedRefs(git, seeded.source));
  }

  test("a pack with a bad trailer is refused with an unpack error, refs unchanged", async () => {
    const pack = await packOf(await newObjects());
    pack[pack.length - 1] ^= 0xff;
    const result = await push([`${oldTip} ${newTip} refs/heads/main`], "report-status side-band-64k agent=conformance", pack);
    expect(result.report[0]).toMatch(/^unpack /);
    expect(result.report[0]).not.toBe("unpack ok");
    expect(result.report.slice(1)).toEqual(["ng refs/heads/main unpacker error"]);
    await expectUnchanged();
  });

  test("a pack missing a tree is refused with missing necessary objects, refs unchanged", async () => {
    const tree = await git.revParse(clone, `${newTip}^{tree}`);
    const pack = await packOf((await newObjects()).filter((oid) => oid !== tree));
    const { report } = await push([`${oldTip} ${newTip} refs/heads/main`], "report-status agent=conformance", pack);
    expect(report).toEqual(["unpack ok", "ng refs/heads/main missing necessary objects"]);
    await expectUnchanged();
  });

  test("atomic: one command with a stale old id fails them all", async () => {
    const pack = await packOf(await newObjects());
    const staleFeature = `${oldTip} ${newTip} refs/heads/feature`;
    const { report } = await push([`${oldTip} ${newTip} refs/heads/main`, staleFeature], "report-status atomic agent=conformance", pack);
    expect(report[0]).toBe("unpack ok");
    expect(report.slice(1).map((line) => line.split(" ").slice(0, 2).join(" "))).toEqual(["ng refs/heads/main", "ng refs/heads/feature"]);
    await expectUnchanged();
  });

  test("deleting a ref that does not exist answers a well-formed report and changes nothing", async () => {
    const { report } = await push([`${ZERO_OID} ${ZERO_OID} refs/heads/no-such-branch`], "report-status delete-refs agent=conformance");
    expect(report[0]).toBe("unpack ok");
    expect(report.slice(1)).toEqual([expect.stringMatching(/^(ok|ng) refs\/heads\/no-such-branch/)]);
    await expectUnchanged();
  });

  test("funny ref names are refused, refs unchanged", async () => {
    const pack = await packOf(await newObjects());
    const names = ["refs/heads/a..b", "refs/heads/x.lock", "refs/heads/sp ace", "refs/heads/ends/"];
    const { report } = await push(
      names.map((name) => `${ZERO_OID} ${newTip} ${name}`),
      "report-status agent=conformance",
      pack,
    );
    expect(report).toEqual(["unpack ok", ...names.map((name) => `ng ${name} funny refname`)]);
    await expectUnchanged();
  });

  test("the 0000 probe of a chunked push answers 200 with an empty body", async () => {
    const response = await fetch(`${server.plainUrl(seeded.agent)}/git-receive-pack`, {
      method: "POST",
      headers: { Authorization: basic(server.key), "Content-Type": "application/x-git-receive-pack-request" },
      body: FLUSH,
    });
    expect(response.status).toBe(200);
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });
});

describe("malformed request bodies", () => {
  test("are answered without a server error, and the server stays up", async () => {
    const { agent, source } = await seedAgent({ git, server });
    const random = seededRandom(11);
    const garbage = Uint8Array.from({ length: 300 }, () => Math.floor(random() * 256));
    const text = (value: string) => new TextEncoder().encode(value);
    const bodies: Array<{ body: Uint8Array; headers?: Record<string, string> }> = [
      { body: garbage },
      { body: text("00") },
      { body: text("zzzz") },
      { body: text("0010abc") },
      { body: concatBytes([pktLine("want 0123"), FLUSH]) },
      { body: concatBytes([pktLine(`want ${"f".repeat(40)}\n`), FLUSH, pktLine("done\n")]) },
      { body: concatBytes([pktLine("command=nosuch\n"), FLUSH]), headers: { "Git-Protocol": "version=2" } },
      { body: concatBytes([pktLine("command=fetch\n"), text("0001"), pktLine("deepen -1\n"), FLUSH]), headers: { "Git-Protocol": "version=2" } },
      { body: garbage, headers: { "Content-Encoding": "gzip" } },
    ];
    for (const service of ["git-upload-pack", "git-receive-pack"]) {
      for (const { body, headers } of bodies) {
        const response = await fetch(`${server.plainUrl(agent)}/${service}`, {
          method: "POST",
          headers: { Authorization: basic(server.key), "Content-Type": `application/x-${service}-request`, ...headers },
          body,
        });
        const answer = new Uint8Array(await response.arrayBuffer());
        expect([200, 400]).toContain(response.status);
        // A 200 is well-framed: pkt-lines (an ERR packet for upload-pack), or a report.
        if (response.status === 200) expect(() => parsePktLines(answer)).not.toThrow();
      }
    }
    expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
    expect(server.log()).not.toContain("internal server error");
    expect(await git.lsRemote(server.url(agent))).toEqual(await expectedRefs(git, source));
  });
});
