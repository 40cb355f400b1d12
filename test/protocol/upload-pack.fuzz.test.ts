import { expect, test } from "bun:test";
import { PktLineBuilder } from "../../src/git/pktline/index.ts";
import { uploadPack } from "../../src/protocol/upload-pack.ts";
import type { ProtocolVersion } from "../../src/protocol/version.ts";
import { gitText } from "../support/git.ts";
import { seededRandom } from "../support/random.ts";
import { useHistory } from "./fixtures.ts";
import { readAll } from "./response.ts";

const history = useHistory(4);

/** Valid requests of every kind, the seeds of the mutations. */
function seedBodies(): Array<[ProtocolVersion, Uint8Array]> {
  const rev = (name: string) => gitText(["rev-parse", name], { cwd: history.repo });
  const v0 = new PktLineBuilder()
    .text(`want ${rev("main")} multi_ack_detailed no-done side-band-64k ofs-delta shallow filter no-progress`)
    .text(`want ${rev("topic")}`)
    .text(`shallow ${rev("main~1")}`)
    .text("deepen 2")
    .text("filter blob:limit=100")
    .flush()
    .text(`have ${rev("main~2")}`)
    .text("done")
    .toBytes();
  const v2 = (command: string, args: string[]) => {
    const out = new PktLineBuilder().text(`command=${command}`).text("agent=fuzz").delim();
    for (const arg of args) out.text(arg);
    return out.flush().toBytes();
  };
  return [
    [0, v0],
    [2, v2("fetch", [`want ${rev("main")}`, `have ${rev("main~1")}`, "deepen-since 1700000000", "filter tree:1", "thin-pack", "no-progress"])],
    [2, v2("fetch", ["want-ref refs/heads/main", "deepen-not v1", "include-tag", "done", "no-progress"])],
    [2, v2("ls-refs", ["symrefs", "peel", "unborn", "ref-prefix refs/"])],
  ];
}

test("mutated and truncated requests are answered (maybe with ERR), never thrown or hung", async () => {
  const random = seededRandom(0xf0cc);
  const seeds = seedBodies();
  for (let iteration = 0; iteration < 400; iteration++) {
    const [version, seed] = seeds[iteration % seeds.length];
    const body = seed.slice(0, Math.floor(random() * (seed.length + 1)));
    for (let flips = Math.floor(random() * 3); flips > 0 && body.length > 0; flips--) {
      // Mostly printable damage, so that lines still parse far enough to reach deeper checks.
      body[Math.floor(random() * body.length)] = random() < 0.7 ? 0x20 + Math.floor(random() * 0x5f) : Math.floor(random() * 256);
    }
    const response = await readAll(uploadPack(history.snapshot, body, { protocolVersion: version }));
    expect(response).toBeInstanceOf(Uint8Array);
  }
});
