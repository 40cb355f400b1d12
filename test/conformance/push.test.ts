/** Push and access conformance, from the sources, under protocol v0 and v2. */
import { defineSuite } from "./harness.ts";
import { ACCESS_CASES, PUSH_CASES } from "./push-cases.ts";

defineSuite("sources", [...PUSH_CASES, ...ACCESS_CASES]);
