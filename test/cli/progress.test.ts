import { describe, expect, test } from "bun:test";
import { startProgress } from "../../src/cli/progress.ts";

function terminal(isTerminal: boolean) {
  let now = 0;
  const written: string[] = [];
  return {
    io: { err: (text: string) => void written.push(text), errIsTerminal: isTerminal },
    written,
    clock: () => now,
    tick: (ms: number) => void (now += ms),
  };
}

describe("progress", () => {
  test("not on a terminal: nothing while it runs, then one summary line", () => {
    const { io, written, clock, tick } = terminal(false);
    const progress = startProgress(io, { label: "Checking repositories", total: 3, clock });
    for (let i = 0; i < 3; i++) {
      tick(1000);
      progress.advance();
    }
    expect(written).toEqual([]);
    progress.finish("3 repositories, 0 problems");
    progress.finish("again");
    expect(written).toEqual(["Checking repositories: 3 repositories, 0 problems, done in 3.0 s\n"]);
  });

  test("on a terminal: a bar with the count, redrawn in place at most every 100 ms, and a final line", () => {
    const { io, written, clock, tick } = terminal(true);
    const progress = startProgress(io, { label: "Importing", total: 4, clock });
    progress.advance();
    progress.advance();
    expect(written).toEqual([`\rImporting: [${"#".repeat(8)}${".".repeat(22)}]  25% 1/4\x1b[K`]);
    tick(100);
    progress.advance();
    expect(written.at(-1)).toBe(`\rImporting: [${"#".repeat(23)}${".".repeat(7)}]  75% 3/4\x1b[K`);
    progress.finish("4 repositories");
    expect(written.at(-1)).toBe("\r\x1b[KImporting: 4 repositories, done in 0.1 s\n");
    expect(written).toHaveLength(3);
  });

  test("finished without a summary, the bar is erased and nothing stays (the command prints its own result)", () => {
    const onTerminal = terminal(true);
    const drawn = startProgress(onTerminal.io, { label: "gc", total: 2, clock: onTerminal.clock });
    drawn.advance();
    drawn.finish();
    expect(onTerminal.written).toEqual([`\rgc: [${"#".repeat(15)}${".".repeat(15)}]  50% 1/2\x1b[K`, "\r\x1b[K"]);
    const offTerminal = terminal(false);
    const quiet = startProgress(offTerminal.io, { label: "gc", total: 2, clock: offTerminal.clock });
    quiet.advance(2);
    quiet.finish();
    expect(offTerminal.written).toEqual([]);
  });

  test("without a total, the count alone; a total given later brings the bar", () => {
    const { io, written, clock, tick } = terminal(true);
    const progress = startProgress(io, { label: "Collecting garbage", clock });
    progress.advance(5);
    expect(written.at(-1)).toBe("\rCollecting garbage: 5\x1b[K");
    tick(150);
    progress.setTotal(10);
    expect(written.at(-1)).toBe(`\rCollecting garbage: [${"#".repeat(15)}${".".repeat(15)}]  50% 5/10\x1b[K`);
  });

  test("clear erases a drawn bar so that a line can be written, and the next advance draws it again at once", () => {
    const { io, written, clock } = terminal(true);
    const progress = startProgress(io, { label: "Importing", total: 2, clock });
    progress.clear();
    expect(written).toEqual([]);
    progress.advance();
    progress.clear();
    expect(written.at(-1)).toBe("\r\x1b[K");
    progress.advance();
    expect(written.at(-1)).toBe(`\rImporting: [${"#".repeat(30)}] 100% 2/2\x1b[K`);
    const quiet = terminal(false);
    const offTerminal = startProgress(quiet.io, { label: "Importing", total: 2, clock: quiet.clock });
    offTerminal.advance();
    offTerminal.clear();
    expect(quiet.written).toEqual([]);
  });
});
