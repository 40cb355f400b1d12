/**
 * Object ids. Inside the engine an id is a 40-character lower-case hex string: it is the
 * cheapest key for a JS Map, and what every protocol line carries. Pack and index files store
 * the 20 raw bytes; these helpers convert at that boundary.
 */
export type Oid = string;

export const OID_BYTES = 20;
export const OID_HEX_LENGTH = 40;
export const ZERO_OID: Oid = "0".repeat(OID_HEX_LENGTH);

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const OID_PATTERN = /^[0-9a-f]{40}$/;

export function isOid(value: string): value is Oid {
  return OID_PATTERN.test(value);
}

/** ASCII codes of each byte's two hex digits. */
const HEX_HIGH = Uint8Array.from(HEX, (pair) => pair.charCodeAt(0));
const HEX_LOW = Uint8Array.from(HEX, (pair) => pair.charCodeAt(1));
const hexScratch = new Uint8Array(OID_HEX_LENGTH);
const latin1 = new TextDecoder("latin1");

/**
 * Decoding 40 ASCII bytes in one call yields a flat string; concatenating 20 pairs would build a
 * rope that every later comparison or Map lookup has to flatten (several times slower overall).
 */
export function oidToHex(bytes: Uint8Array, offset = 0): Oid {
  for (let i = 0; i < OID_BYTES; i++) {
    const byte = bytes[offset + i];
    hexScratch[i * 2] = HEX_HIGH[byte];
    hexScratch[i * 2 + 1] = HEX_LOW[byte];
  }
  return latin1.decode(hexScratch);
}

export function hexToOid(hex: Oid): Uint8Array {
  const out = new Uint8Array(OID_BYTES);
  writeOid(out, 0, hex);
  return out;
}

/** Value of each hex digit by character code (0 for anything else); avoids parseInt per byte. */
const HEX_DIGIT_VALUE = new Uint8Array(128);
for (let digit = 0; digit < 16; digit++) {
  HEX_DIGIT_VALUE[digit.toString(16).charCodeAt(0)] = digit;
  HEX_DIGIT_VALUE[digit.toString(16).toUpperCase().charCodeAt(0)] = digit;
}

/** Writes the 20 raw bytes of `hex` into `target` at `offset`. */
export function writeOid(target: Uint8Array, offset: number, hex: Oid): void {
  for (let i = 0; i < OID_BYTES; i++) {
    target[offset + i] = (HEX_DIGIT_VALUE[hex.charCodeAt(i * 2) & 0x7f] << 4) | HEX_DIGIT_VALUE[hex.charCodeAt(i * 2 + 1) & 0x7f];
  }
}
