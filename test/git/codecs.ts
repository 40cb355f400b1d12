import { nativeCodec, portableCodec, type Codec } from "../../src/git/codec/index.ts";

/** The engine's tests run on every codec: `describe.each(CODECS)`. */
export const CODECS: ReadonlyArray<readonly [string, Codec]> = [
  ["native", nativeCodec],
  ["portable", portableCodec],
];
