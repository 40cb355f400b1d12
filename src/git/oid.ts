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

export function oidToHex(bytes: Uint8Array, offset = 0): Oid {
  let hex = "";
  for (let i = offset; i < offset + OID_BYTES; i++) hex += HEX[bytes[i]];
  return hex;
}

export function hexToOid(hex: Oid): Uint8Array {
  const out = new Uint8Array(OID_BYTES);
  writeOid(out, 0, hex);
  return out;
}

/** Writes the 20 raw bytes of `hex` into `target` at `offset`. */
export function writeOid(target: Uint8Array, offset: number, hex: Oid): void {
  for (let i = 0; i < OID_BYTES; i++) {
    target[offset + i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
}
