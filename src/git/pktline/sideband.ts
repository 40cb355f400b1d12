import { GitError } from "../errors.ts";
import { PKT_LENGTH_BYTES, writeLengthPrefix } from "./pktline.ts";

/**
 * Side-band multiplexing (gitprotocol-pack, "Packfile Data"): each pkt-line payload starts with
 * a channel byte. 1 carries pack data, 2 progress text, 3 a fatal error message.
 */
export type SideBandChannel = 1 | 2 | 3;
export const SIDE_BAND_DATA: SideBandChannel = 1;
export const SIDE_BAND_PROGRESS: SideBandChannel = 2;
export const SIDE_BAND_ERROR: SideBandChannel = 3;

/** Data bytes per packet with `side-band-64k`: 65520 minus the length and the channel byte. */
export const SIDE_BAND_64K_MAX_DATA = 65515;
/** Data bytes per packet with the original `side-band`: 1000-byte packets. */
export const SIDE_BAND_MAX_DATA = 995;

function checkMaxData(maxData: number): void {
  if (!(maxData >= 1 && maxData <= SIDE_BAND_64K_MAX_DATA)) {
    throw new GitError("pktline.sideband", `side-band packet size ${maxData} outside 1..${SIDE_BAND_64K_MAX_DATA}`);
  }
}

/**
 * Frames `data` on `channel` as as many packets as needed, each carrying at most `maxData`
 * bytes, concatenated into one buffer. Empty data yields no packet.
 */
export function encodeSideBand(channel: SideBandChannel, data: Uint8Array | string, maxData = SIDE_BAND_64K_MAX_DATA): Uint8Array {
  checkMaxData(maxData);
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const packets = Math.ceil(bytes.length / maxData);
  const out = new Uint8Array(bytes.length + packets * (PKT_LENGTH_BYTES + 1));
  let target = 0;
  for (let source = 0; source < bytes.length; source += maxData) {
    const chunk = bytes.subarray(source, source + maxData);
    writeLengthPrefix(out, target, PKT_LENGTH_BYTES + 1 + chunk.length);
    out[target + PKT_LENGTH_BYTES] = channel;
    out.set(chunk, target + PKT_LENGTH_BYTES + 1);
    target += PKT_LENGTH_BYTES + 1 + chunk.length;
  }
  return out;
}

/**
 * The same packets as encodeSideBand, as pieces: each packet's length and channel, then its
 * data as a view of `data`, never copied. For large data already in memory (a stored or cached
 * pack sent whole): copying it into frames allocated megabytes per clone, which after each
 * collection the kernel had to hand out again, page by page.
 */
export function* sideBandPieces(channel: SideBandChannel, data: Uint8Array, maxData = SIDE_BAND_64K_MAX_DATA): Generator<Uint8Array> {
  checkMaxData(maxData);
  for (let source = 0; source < data.length; source += maxData) {
    const chunk = data.subarray(source, source + maxData);
    const header = new Uint8Array(PKT_LENGTH_BYTES + 1);
    writeLengthPrefix(header, 0, header.length + chunk.length);
    header[PKT_LENGTH_BYTES] = channel;
    yield header;
    yield chunk;
  }
}
