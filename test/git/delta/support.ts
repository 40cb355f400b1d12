/** Deterministic inputs for the delta tests: generated base/target pairs and hand-written deltas. */
import { seededRandom } from "../../support/random.ts";

export type Random = () => number;
export { seededRandom };

export function randomInt(random: Random, below: number): number {
  return Math.floor(random() * below);
}

export function randomBytes(random: Random, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = randomInt(random, 256);
  return bytes;
}

const WORDS = "the agent remembers a block of state value label human persona skill system tool note plan goal".split(" ");

/** Markdown-ish text of `lines` lines of words. */
export function randomText(random: Random, lines: number): Uint8Array {
  const out: string[] = [];
  for (let line = 0; line < lines; line++) {
    const words = 3 + randomInt(random, 10);
    out.push(Array.from({ length: words }, () => WORDS[randomInt(random, WORDS.length)]).join(" "));
  }
  return new TextEncoder().encode(out.join("\n") + "\n");
}

/** A plain Uint8Array (not a Buffer, so toEqual compares it with other Uint8Arrays). */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** A random [start, end) range of `bytes` no longer than `maxLength`. */
function randomRange(random: Random, length: number, maxLength: number): [number, number] {
  const start = randomInt(random, length + 1);
  return [start, Math.min(length, start + randomInt(random, maxLength + 1))];
}

/** The edits a target can differ from its base by; each returns a new array. */
export const EDITS = {
  overwrite(random: Random, bytes: Uint8Array): Uint8Array {
    const out = bytes.slice();
    for (let i = 0, n = 1 + randomInt(random, 8); i < n && out.length > 0; i++) out[randomInt(random, out.length)] ^= 1 + randomInt(random, 255);
    return out;
  },
  insert(random: Random, bytes: Uint8Array): Uint8Array {
    const at = randomInt(random, bytes.length + 1);
    return concat(bytes.subarray(0, at), randomBytes(random, 1 + randomInt(random, 300)), bytes.subarray(at));
  },
  delete(random: Random, bytes: Uint8Array): Uint8Array {
    const [start, end] = randomRange(random, bytes.length, 500);
    return concat(bytes.subarray(0, start), bytes.subarray(end));
  },
  move(random: Random, bytes: Uint8Array): Uint8Array {
    const [start, end] = randomRange(random, bytes.length, 2000);
    const rest = concat(bytes.subarray(0, start), bytes.subarray(end));
    const at = randomInt(random, rest.length + 1);
    return concat(rest.subarray(0, at), bytes.subarray(start, end), rest.subarray(at));
  },
  repeat(random: Random, bytes: Uint8Array): Uint8Array {
    const [start, end] = randomRange(random, bytes.length, 100);
    const copies = Array.from({ length: 2 + randomInt(random, 30) }, () => bytes.subarray(start, end));
    return concat(bytes.subarray(0, end), ...copies, bytes.subarray(end));
  },
  truncate(random: Random, bytes: Uint8Array): Uint8Array {
    return bytes.slice(0, randomInt(random, bytes.length + 1));
  },
  prefix(random: Random, bytes: Uint8Array): Uint8Array {
    return concat(randomBytes(random, randomInt(random, 40)), bytes);
  },
  replace(random: Random, bytes: Uint8Array): Uint8Array {
    return randomBytes(random, randomInt(random, bytes.length + 1));
  },
} satisfies Record<string, (random: Random, bytes: Uint8Array) => Uint8Array>;

export type EditName = keyof typeof EDITS;
export const EDIT_NAMES = Object.keys(EDITS) as EditName[];

/** The edits that keep most of the content: what a new version of a file looks like. */
const LOCAL_EDITS = EDIT_NAMES.filter((name) => name !== "replace");

/** Applies `count` random local edits in a row. */
export function editRandomly(random: Random, bytes: Uint8Array, count: number): Uint8Array {
  let out = bytes;
  for (let i = 0; i < count; i++) out = EDITS[LOCAL_EDITS[randomInt(random, LOCAL_EDITS.length)]](random, out);
  return out;
}

/** Little-endian base-128, as in a delta header. */
export function sizeVarint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

/** A hand-written delta: header sizes, then raw instruction bytes. */
export function rawDelta(baseSize: number, resultSize: number, instructions: number[]): Uint8Array {
  return Uint8Array.from([...sizeVarint(baseSize), ...sizeVarint(resultSize), ...instructions]);
}
