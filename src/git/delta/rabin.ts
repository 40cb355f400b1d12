/**
 * A Rabin fingerprint over a sliding window of 16 bytes: the window read as a polynomial over
 * GF(2), reduced modulo an irreducible polynomial of degree 31, so a value fits in 31 bits and
 * every step is plain int32 arithmetic. Appending a byte and dropping the oldest one are one
 * table look-up each, which is what lets the delta search hash every target position.
 */

/** Bytes per fingerprinted window (and per indexed block of a delta base). */
export const WINDOW = 16;

/** x^31 + … + 1, irreducible over GF(2) (checked with Rabin's test: x^(2^31) ≡ x, no roots). */
const POLYNOMIAL = 0xd5996539;
/** A fingerprint has 31 bits; after shifting in 8 more, the top 8 are reduced through APPEND_REDUCE. */
const HIGH_SHIFT = 23;
const LOW_MASK = (1 << HIGH_SHIFT) - 1;

/** v(x) · x mod P, for v of degree < 31. */
function timesX(value: number): number {
  const shifted = (value << 1) >>> 0;
  return shifted >= 0x80000000 ? (shifted ^ POLYNOMIAL) >>> 0 : shifted;
}

/** APPEND_REDUCE[h] = h(x) · x^31 mod P: folds the bits a byte shift pushes past degree 30. */
const APPEND_REDUCE = new Int32Array(256);
/** DROP[b] = b(x) · x^(8·15) mod P: the contribution of the oldest byte of a full window. */
const DROP = new Int32Array(256);

const X31_MOD_P = (POLYNOMIAL & 0x7fffffff) >>> 0;
for (let high = 0; high < 256; high++) {
  let product = 0;
  for (let bit = 7; bit >= 0; bit--) {
    product = timesX(product);
    if ((high >> bit) & 1) product ^= X31_MOD_P;
  }
  APPEND_REDUCE[high] = product;
}
for (let byte = 0; byte < 256; byte++) {
  let value = byte;
  for (let i = 1; i < WINDOW; i++) value = appendByte(value, 0);
  DROP[byte] = value;
}

/** The fingerprint of the window extended by `byte` (the window grows by one byte). */
export function appendByte(fingerprint: number, byte: number): number {
  return (((fingerprint & LOW_MASK) << 8) | byte) ^ APPEND_REDUCE[fingerprint >>> HIGH_SHIFT];
}

/** Slides a full window one byte: drops `oldest`, appends `next`. */
export function slideWindow(fingerprint: number, oldest: number, next: number): number {
  return appendByte(fingerprint ^ DROP[oldest], next);
}

/** The fingerprint of data[start, start + WINDOW). */
export function fingerprintWindow(data: Uint8Array, start: number): number {
  let fingerprint = 0;
  for (let i = start; i < start + WINDOW; i++) fingerprint = appendByte(fingerprint, data[i]);
  return fingerprint;
}
