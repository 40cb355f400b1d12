import { expect, test } from "bun:test";
import { GitError } from "../../../src/git/errors.ts";
import { PktLineBuilder, PktLineReader } from "../../../src/git/pktline/index.ts";
import { seededRandom } from "../../support/random.ts";

function sampleStream(random: () => number): Uint8Array {
  const out = new PktLineBuilder();
  for (let i = 0; i < 8; i++) {
    const pick = random();
    if (pick < 0.15) out.flush();
    else if (pick < 0.25) out.delim();
    else out.data(new Uint8Array(Math.floor(random() * 40)).map(() => random() * 256));
  }
  return out.toBytes();
}

test("mutated and truncated pkt-line streams yield packets or typed errors only", () => {
  const random = seededRandom(0x5eed);
  for (let iteration = 0; iteration < 3000; iteration++) {
    const stream = sampleStream(random);
    const mutated = stream.slice(0, Math.floor(random() * (stream.length + 1)));
    for (let flips = Math.floor(random() * 4); flips > 0 && mutated.length > 0; flips--) {
      mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
    }
    const reader = new PktLineReader(mutated);
    try {
      let previous = -1;
      while (!reader.atEnd) {
        reader.next();
        expect(reader.offset).toBeGreaterThan(previous);
        expect(reader.offset).toBeLessThanOrEqual(mutated.length);
        previous = reader.offset;
      }
    } catch (error) {
      expect(error).toBeInstanceOf(GitError);
    }
  }
});
