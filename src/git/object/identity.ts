/**
 * Identities of author, committer and tagger lines: "Name <email> 1700000000 +0100"
 * (git's fsck.c fsck_ident gives the rules; every failure there is an error, never a warning).
 */
import { ByteBuilder, fsckError, SPACE } from "./bytes.ts";

export interface Identity {
  /** Raw bytes: the object's `encoding` header, not UTF-8, may apply. */
  name: Uint8Array;
  email: Uint8Array;
  /** Seconds since the epoch. */
  timestamp: number;
  /** "+HHMM" or "-HHMM", exactly as written (git keeps "-0000" distinct from "+0000"). */
  timezone: string;
}

const LT = 0x3c;
const GT = 0x3e;
const PLUS = 0x2b;
const MINUS = 0x2d;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** The first "<" or ">" in [from, end), or -1. */
function nextAngle(data: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    if (data[i] === LT || data[i] === GT) return i;
  }
  return -1;
}

/** Parses the identity occupying data[start, end) (the line without its key and newline). */
export function parseIdentity(data: Uint8Array, start: number, end: number): Identity {
  if (data[start] === LT) throw fsckError("missingNameBeforeEmail", "identity has no name before its email");
  const open = nextAngle(data, start, end);
  if (open < 0) throw fsckError("missingEmail", "identity has no email");
  if (data[open] === GT) throw fsckError("badName", "identity name contains \">\"");
  if (data[open - 1] !== SPACE) throw fsckError("missingSpaceBeforeEmail", "identity has no space before its email");
  const close = nextAngle(data, open + 1, end);
  if (close < 0 || data[close] !== GT) throw fsckError("badEmail", "identity email is not closed by \">\"");
  if (data[close + 1] !== SPACE || close + 1 >= end) throw fsckError("missingSpaceBeforeDate", "identity has no space before its date");
  const dateStart = close + 2;
  let dateEnd = dateStart;
  while (dateEnd < end && isDigit(data[dateEnd])) dateEnd++;
  if (data[dateStart] === 0x30 && data[dateStart + 1] !== SPACE) throw fsckError("zeroPaddedDate", "identity date has leading zeros");
  if (dateEnd === dateStart || data[dateEnd] !== SPACE || dateEnd >= end) throw fsckError("badDate", "identity date is not a number followed by a space");
  let timestamp = 0;
  for (let i = dateStart; i < dateEnd; i++) timestamp = timestamp * 10 + (data[i] - 0x30);
  // git accepts anything that fits time_t; beyond 2^53 a JS number would silently round.
  if (!Number.isSafeInteger(timestamp)) throw fsckError("badDateOverflow", "identity date is too large");
  const zone = dateEnd + 1;
  const sign = data[zone];
  if (end - zone !== 5 || (sign !== PLUS && sign !== MINUS) || !isDigit(data[zone + 1]) || !isDigit(data[zone + 2]) || !isDigit(data[zone + 3]) || !isDigit(data[zone + 4])) {
    throw fsckError("badTimezone", "identity time zone is not +HHMM or -HHMM at the end of its line");
  }
  return {
    name: data.subarray(start, open - 1),
    email: data.subarray(open + 1, close),
    timestamp,
    timezone: String.fromCharCode(sign, data[zone + 1], data[zone + 2], data[zone + 3], data[zone + 4]),
  };
}

/** Appends "<key>Name <email> time zone\n"; `key` includes its trailing space. */
export function writeIdentityLine(out: ByteBuilder, key: Uint8Array, identity: Identity): void {
  out.bytes(key).bytes(identity.name).text(" <").bytes(identity.email).text(`> ${identity.timestamp} ${identity.timezone}\n`);
}
