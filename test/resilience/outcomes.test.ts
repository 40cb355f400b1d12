import { describe, expect, test } from "bun:test";
import { expectOutcomesHonoured, pushVerdicts, type FinalState, type RefOutcome } from "./support.ts";

const [SEED, A, B, C] = ["0", "a", "b", "c"].map((digit) => digit.repeat(40));
const MAIN = "refs/heads/main";
const TAG = "refs/tags/t1";

describe("push outcomes from git push --porcelain", () => {
  test("accepted, refused by git or by the server, and failed pushes", () => {
    const run = (stdout: string, exitCode = 1, stderr = "") => pushVerdicts({ stdout, stderr, exitCode }, A, [MAIN, TAG]).map((outcome) => outcome.verdict);
    expect(run(`To http://x/\n \tHEAD:${MAIN}\t${SEED.slice(0, 7)}..${A.slice(0, 7)}\n*\tHEAD:${TAG}\t[new tag]\nDone\n`, 0)).toEqual(["ok", "ok"]);
    expect(run(`To http://x/\n!\tHEAD:${MAIN}\t[rejected] (fetch first)\n*\tHEAD:${TAG}\t[new tag]\nDone\n`)).toEqual(["refused", "ok"]);
    expect(run(`To http://x/\n!\tHEAD:${MAIN}\t[remote rejected] (failed to lock)\n!\tHEAD:${TAG}\t[remote rejected] (unpacker error)\n`)).toEqual(["refused", "error"]);
    const failed = pushVerdicts({ stdout: "", stderr: "error: RPC failed; HTTP 503\nfatal: the remote end hung up unexpectedly\n", exitCode: 128 }, A, [MAIN]);
    expect(failed).toEqual([{ ref: MAIN, commit: A, verdict: "error", detail: "error: RPC failed; HTTP 503" }]);
  });
});

describe("outcomes against the final state", () => {
  const outcome = (ref: string, commit: string, verdict: RefOutcome["verdict"]): RefOutcome => ({ ref, commit, verdict, detail: "" });
  const state = (history: string[], refs: [string, string][]): FinalState => ({ history: new Set(history), refs: new Map(refs), clone: "" });
  const outcomes = [outcome(MAIN, A, "ok"), outcome(TAG, A, "ok"), outcome(MAIN, B, "refused"), outcome(MAIN, C, "error")];

  test("an exact match passes, with or without the errored push", () => {
    expectOutcomesHonoured(outcomes, state([SEED, A], [[MAIN, A], [TAG, A]]), SEED, true);
    expectOutcomesHonoured(outcomes, state([SEED, A, C], [[MAIN, C], [TAG, A]]), SEED, true);
  });

  test("a lost acknowledged push, a landed refused one, a stray commit or ref, or an error when none is allowed fail", () => {
    const fails = (final: FinalState, allowErrors = true) => expect(() => expectOutcomesHonoured(outcomes, final, SEED, allowErrors)).toThrow();
    fails(state([SEED], [[MAIN, SEED], [TAG, A]]));
    fails(state([SEED, A], [[MAIN, A]]));
    fails(state([SEED, A, B], [[MAIN, B], [TAG, A]]));
    fails(state([SEED, A, "d".repeat(40)], [[MAIN, A], [TAG, A]]));
    fails(state([SEED, A], [[MAIN, A], [TAG, A], ["refs/heads/other", A]]));
    fails(state([SEED, A], [[MAIN, A], [TAG, A]]), false);
  });
});
