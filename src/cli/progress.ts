import type { Io } from "./command.ts";

/**
 * Progress of a long command (import, gc, fsck) on stderr. On a terminal: the label, a count
 * and, when the total is known, a bar, redrawn in place at most every REDRAW_MS. Elsewhere (a
 * log, a pipe, CI): nothing while it runs, then one summary line.
 *
 *     const progress = startProgress(io, { label: "Checking repositories", total: selected.length });
 *     for (const repository of selected) { await check(repository); progress.advance(); }
 *     progress.finish(`${selected.length} repositories, ${broken} with problems`);
 */
export interface Progress {
  /** Counts `n` more items done. */
  advance(n?: number): void;
  /** Sets or corrects the number of items expected. */
  setTotal(total: number): void;
  /** Erases the bar, so that a line can be written to the terminal; the next advance draws it again. */
  clear(): void;
  /**
   * Ends the progress: erases the bar, then writes `summary` (e.g. "12 repositories, 0 problems")
   * as the one line that stays, with the time taken. Without a summary nothing stays: for commands
   * that print their own result.
   */
  finish(summary?: string): void;
}

export interface ProgressOptions {
  /** What is being done, e.g. "Checking repositories". */
  label: string;
  total?: number;
  /** Milliseconds since some fixed point (tests pass their own). */
  clock?: () => number;
}

const REDRAW_MS = 100;
const BAR_WIDTH = 30;
/** Erases the rest of the line after a redraw that may be shorter than the one before. */
const CLEAR_TO_END = "\x1b[K";

export function startProgress(io: Pick<Io, "err" | "errIsTerminal">, options: ProgressOptions): Progress {
  const clock = options.clock ?? (() => performance.now());
  const started = clock();
  let total = options.total;
  let done = 0;
  let lastDraw = -Infinity;
  let finished = false;

  const counts = () => (total === undefined ? String(done) : `${done}/${total}`);
  const draw = () => {
    lastDraw = clock();
    const bar = total === undefined || total === 0 ? "" : `${renderBar(done / total)} `;
    io.err(`\r${options.label}: ${bar}${counts()}${CLEAR_TO_END}`);
  };
  const maybeDraw = () => {
    if (io.errIsTerminal && clock() - lastDraw >= REDRAW_MS) draw();
  };

  return {
    advance(n = 1) {
      done += n;
      maybeDraw();
    },
    setTotal(value) {
      total = value;
      maybeDraw();
    },
    clear() {
      if (!io.errIsTerminal || lastDraw === -Infinity) return;
      io.err(`\r${CLEAR_TO_END}`);
      lastDraw = -Infinity;
    },
    finish(summary) {
      if (finished) return;
      finished = true;
      const erase = io.errIsTerminal && lastDraw !== -Infinity ? `\r${CLEAR_TO_END}` : "";
      if (summary === undefined) {
        if (erase !== "") io.err(erase);
        return;
      }
      const seconds = ((clock() - started) / 1000).toFixed(1);
      io.err(`${erase}${options.label}: ${summary}, done in ${seconds} s\n`);
    },
  };
}

function renderBar(fraction: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * BAR_WIDTH);
  const percent = String(Math.floor(Math.min(1, fraction) * 100)).padStart(3);
  return `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${percent}%`;
}
