import { expect, test } from "bun:test";
import { nativeCodec } from "../../../src/git/codec/index.ts";
import { listObjects } from "../../../src/git/walk/index.ts";
import { gitText } from "../../support/git.ts";
import { openDatabase } from "../odb/repository.ts";
import { history } from "./history.ts";

// Measured, not asserted (no timed assertions): the numbers are printed for the report.
test("a full clone of 2,000 commits × 200 files lists what git rev-list lists", () => {
  const gitDir = history({ commits: 2000, files: 200, edits: 2, topicEvery: 0 });
  const database = openDatabase(gitDir, nativeCodec);
  const main = gitText(["rev-parse", "main"], { cwd: gitDir });
  const timings: number[] = [];
  let count = 0;
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    count = listObjects({ reader: database, include: [main] }).length;
    timings.push(performance.now() - start);
  }
  const incrementalStart = performance.now();
  const incremental = listObjects({ reader: database, include: [main], exclude: [gitText(["rev-parse", "main~5"], { cwd: gitDir })] }).length;
  const incrementalMs = performance.now() - incrementalStart;
  const gitStart = performance.now();
  const expected = gitText(["rev-list", "--objects", "main"], { cwd: gitDir }).split("\n").length;
  const gitMs = performance.now() - gitStart;
  expect(count).toBe(expected);
  console.log(
    `listObjects full clone: ${count} objects in ${timings.map((ms) => ms.toFixed(0)).join(" / ")} ms (cold / warm / warm); ` +
      `5 commits on top: ${incremental} objects in ${incrementalMs.toFixed(1)} ms; git rev-list --objects: ${gitMs.toFixed(0)} ms`,
  );
});
