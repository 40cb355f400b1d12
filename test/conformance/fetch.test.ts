/** Clone and fetch conformance, from the sources, under protocol v0 and v2. */
import { FETCH_CASES } from "./fetch-cases.ts";
import { defineSuite } from "./harness.ts";

defineSuite("sources", FETCH_CASES);
