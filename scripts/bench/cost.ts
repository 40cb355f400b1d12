/**
 * What a server spends on one step of a benchmark: wall time, CPU (its process and the children it
 * reaped) and peak memory (its process and all its descendants), read from /proc.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { processCpuSeconds } from "./load.ts";

const CPU_SETTLE_STEP_MS = 250;
const CPU_SETTLE_MAX_MS = 5000;
/** How often the process tree's memory is sampled: children of a CGI server live for one request. */
const MEMORY_SAMPLE_MS = 20;

export interface ServerCost {
  ms: number;
  cpuSeconds: number;
  /** Peak resident memory during the step, when asked for. */
  peakBytes?: number;
}

/** A `/proc/PID/status` field in bytes (VmRSS, VmHWM). */
export function statusBytes(pid: number, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Resets the peak RSS to the current RSS (proc(5), clear_refs "5"). */
function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

/** `pid` and every process below it, from the parent ids in /proc/N/stat. */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // The process exited while the directory was read.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

/** The sum of the peak RSS of `pid` and its descendants alive now. */
function treePeakBytes(pid: number): number {
  let sum = 0;
  for (const member of processTree(pid)) {
    try {
      sum += statusBytes(member, "VmHWM");
    } catch {
      // Exited meanwhile.
    }
  }
  return sum;
}

/**
 * The server's CPU seconds once they stop growing: a CGI server's processes may still be
 * finishing (and not yet reaped, whose counters include them only then) when the client is done.
 */
async function settledCpuSeconds(pid: number): Promise<number> {
  let last = processCpuSeconds(pid);
  for (let waited = 0; waited < CPU_SETTLE_MAX_MS; waited += CPU_SETTLE_STEP_MS) {
    await Bun.sleep(CPU_SETTLE_STEP_MS);
    const now = processCpuSeconds(pid);
    if (now === last) return now;
    last = now;
  }
  return last;
}

/**
 * Runs `body` and returns what server `pid` spent meanwhile. With `trackMemory`, the peak is the
 * largest sum of the tree's peak RSS seen by sampling (exact for a single process, whose peak is
 * reset first; a short-lived child's last moments may be missed).
 */
export async function measureServer(pid: number, trackMemory: boolean, body: () => Promise<unknown>): Promise<ServerCost> {
  let peakBytes: number | undefined;
  let sampler: Timer | undefined;
  if (trackMemory) {
    resetPeakRss(pid);
    peakBytes = treePeakBytes(pid);
    sampler = setInterval(() => (peakBytes = Math.max(peakBytes ?? 0, treePeakBytes(pid))), MEMORY_SAMPLE_MS);
  }
  const cpu = processCpuSeconds(pid);
  const start = performance.now();
  try {
    await body();
  } finally {
    clearInterval(sampler);
  }
  const ms = performance.now() - start;
  if (trackMemory) peakBytes = Math.max(peakBytes ?? 0, treePeakBytes(pid));
  return { ms, cpuSeconds: (await settledCpuSeconds(pid)) - cpu, peakBytes };
}
