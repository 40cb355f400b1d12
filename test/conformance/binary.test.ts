/**
 * The compiled binary (dist/stategit) against the representative cases: clone, fetch, push,
 * shallow, partial, parallel pushes. CI builds it first; a missing binary there fails the run.
 */
import { FETCH_CASES } from "./fetch-cases.ts";
import { defineSuite } from "./harness.ts";
import { PUSH_CASES } from "./push-cases.ts";

defineSuite(
  "binary",
  [...FETCH_CASES, ...PUSH_CASES].filter((conformanceCase) => conformanceCase.binary),
);
