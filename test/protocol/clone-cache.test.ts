import { expect, test } from "bun:test";
import { PktLineBuilder } from "../../src/git/pktline/index.ts";
import { uploadPack } from "../../src/protocol/upload-pack.ts";
import { gitText } from "../support/git.ts";
import { useHistory } from "./fixtures.ts";
import { demux, packObjectIds, readAll } from "./response.ts";

const history = useHistory();
const rev = (name: string) => gitText(["rev-parse", name], { cwd: history.repo });

function body(want: string, capabilities: string, haves: string[] = []): Uint8Array {
  const out = new PktLineBuilder().text(`want ${want} ${capabilities}`).flush();
  for (const have of haves) out.text(`have ${have}`);
  return out.text("done").toBytes();
}

const fetchOnce = async (request: Uint8Array) => demux(await readAll(uploadPack(history.snapshot, request, { protocolVersion: 0 })));

test("a repeated full clone replays the pack written for the first, byte for byte", async () => {
  const request = body(rev("topic"), "multi_ack_detailed side-band-64k ofs-delta include-tag");
  const first = await fetchOnce(request);
  const second = await fetchOnce(request);
  expect(first.progress).toMatch(/Counting objects: 100%/);
  expect(second.progress).not.toMatch(/Counting objects/);
  expect(second.progress).toMatch(/pack-reused [1-9]\d*\n$/);
  expect(second.pack).toEqual(first.pack);
  expect(second.lines).toEqual(first.lines);
});

test("fetches with haves, other tips or REF deltas are not answered from a clone's pack", async () => {
  await fetchOnce(body(rev("main"), "multi_ack_detailed side-band-64k ofs-delta"));
  for (const request of [
    body(rev("main"), "multi_ack_detailed side-band-64k ofs-delta", [rev("main~2")]),
    body(rev("main~1"), "multi_ack_detailed side-band-64k ofs-delta"),
    body(rev("main"), "multi_ack_detailed side-band-64k"),
  ]) {
    const response = await fetchOnce(request);
    expect(response.progress).toMatch(/Counting objects: 100%/);
    expect(packObjectIds(response.pack).length).toBeGreaterThan(0);
  }
});
