export type { Codec, InflateResult, Sha1Hasher } from "./codec.ts";
export { nativeCodec } from "./native.ts";
export { portableCodec } from "./portable.ts";
export { nativeCodec as defaultCodec } from "./native.ts";
