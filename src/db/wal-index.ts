import type { CommitWatch } from "./adapter.ts";

/**
 * The WAL-index header's first copy (https://www.sqlite.org/walformat.html, "The WAL-Index
 * Header"): 48 bytes at the start of the `-shm` file, which every connection maps shared. A
 * commit rewrites it (its change counter, last frame and checksums) before the committing
 * statement returns, and so does the checkpoint that restarts the WAL.
 */
const HEADER_WORDS = 12;
/** The header's `isInit` byte: 1 once the header is valid. */
const IS_INIT_OFFSET = 12;

/**
 * A CommitWatch of a SQLite database in WAL mode: it maps the `-shm` file as SQLite's own
 * connections do, reads the WAL-index header (no system call, no lock) and counts the changes it
 * sees. A header read while a commit is rewriting it either still equals the old one (that commit
 * has not finished) or differs (it counts as a change).
 *
 * A mapped file that shrinks under its mapping would crash the process: SQLite truncates the
 * `-shm` file only when a connection opens it while no other holds it open, and this watch is
 * read only while its own connection is open (the adapter closes it first).
 */
export class WalIndexWatch implements CommitWatch {
  private header: Uint32Array | undefined;
  private readonly seen = new Uint32Array(HEADER_WORDS);
  private changes = 0;
  private closed = false;

  /** `databasePath`: the database file, whose connection is open while this is used. */
  constructor(private readonly databasePath: string) {}

  version(): number | undefined {
    if (this.closed) return undefined;
    // The `-shm` file exists, sized in 32 KiB regions, once a connection has read the database in WAL mode.
    this.header ??= this.map();
    const header = this.header;
    if (header === undefined || (header[IS_INIT_OFFSET / 4] & 0xff) !== 1) return undefined;
    for (let word = 0; word < HEADER_WORDS; word++) {
      if (header[word] === this.seen[word]) continue;
      this.seen.set(header.subarray(0, HEADER_WORDS));
      this.changes++;
      break;
    }
    return this.changes;
  }

  close(): void {
    this.closed = true;
    this.header = undefined;
  }

  private map(): Uint32Array | undefined {
    try {
      const bytes = Bun.mmap(`${this.databasePath}-shm`, { shared: true });
      return bytes.byteLength >= HEADER_WORDS * 4 ? new Uint32Array(bytes.buffer, bytes.byteOffset, HEADER_WORDS) : undefined;
    } catch {
      return undefined;
    }
  }
}
