/**
 * A bounded pool of worker threads (Bun's Web Workers): each runs one job at a time; jobs beyond
 * the idle workers wait in a queue of bounded length; past it, a job is refused at once
 * (WorkerPoolFullError, answered 503 with Retry-After) rather than piling up memory. A worker
 * that crashes fails its job, never the caller's process, and is replaced.
 *
 * The wire format between the pool and a worker script: the pool posts one message per job;
 * the worker posts any number of `{ kind: "chunks" }` messages (a job's output in order, several
 * chunks a message: each message costs the receiving thread tens of microseconds), then one
 * `{ kind: "done" }` or `{ kind: "failed" }`.
 */

/** What a worker posts back while and after it runs a job. */
export type WorkerReply =
  | { kind: "chunks"; parts: Uint8Array[] }
  | { kind: "done"; result: unknown }
  | { kind: "failed"; error: { name: string; code?: string; message: string } };

/** What the pool reports (the server's metrics implement it). */
export interface WorkerPoolObserver {
  /** Jobs waiting for a worker, now. */
  queueLength(jobs: number): void;
  /** Workers running a job, now. */
  busyWorkers(workers: number): void;
  /** Time a worker spent on one job. */
  busy(seconds: number): void;
}

/** Every worker is busy and the queue is full: the caller should answer "retry later". */
export class WorkerPoolFullError extends Error {
  readonly code = "workers.busy";
  constructor(queueLimit: number) {
    super(`every worker thread is busy and ${queueLimit} jobs are waiting`);
    this.name = "WorkerPoolFullError";
  }
}

/** A worker ended (an uncaught error, out of memory, exit) while it ran the job. */
export class WorkerCrashedError extends Error {
  constructor(reason: string) {
    super(`worker thread crashed: ${reason}`);
    this.name = "WorkerCrashedError";
  }
}

/** One worker of the pool, with what its users keep about it (e.g. which packs it holds). */
export interface PoolWorker<State> {
  readonly state: State;
}

/** A job: its message (built for the worker that takes it), and where its replies go. */
export interface PoolJob<State> {
  message(worker: PoolWorker<State>): { data: unknown; transfer: Bun.Transferable[] };
  onChunk(bytes: Uint8Array): void;
  onDone(result: unknown): void;
  onFailed(error: Error, reply?: Extract<WorkerReply, { kind: "failed" }>["error"]): void;
  /** Waits in the queue whatever its length (background work, bounded by its callers). */
  unbounded?: boolean;
}

export interface WorkerPoolOptions<State> {
  /** The worker script. */
  url: string | URL;
  size: number;
  /** Most jobs waiting for a worker; more are refused. */
  queueLimit: number;
  /** A new worker's state (also after a crash: a replacement starts empty). */
  initialState(): State;
  observer?: WorkerPoolObserver;
}

interface Slot<State> extends PoolWorker<State> {
  readonly worker: Worker;
  job?: PoolJob<State>;
  started: number;
  ended: boolean;
}

export class WorkerPool<State> {
  private readonly slots: Slot<State>[] = [];
  private readonly queue: PoolJob<State>[] = [];
  private closed = false;

  constructor(private readonly options: WorkerPoolOptions<State>) {
    for (let i = 0; i < options.size; i++) this.slots.push(this.spawn());
  }

  get size(): number {
    return this.slots.length;
  }

  /** Runs `job` on the first idle worker, or queues it; throws WorkerPoolFullError when the queue is full. */
  submit(job: PoolJob<State>): void {
    if (this.closed) throw new WorkerCrashedError("the pool is closed");
    const idle = this.slots.some((slot) => !slot.job);
    if (!idle && !job.unbounded && this.queue.length >= this.options.queueLimit) throw new WorkerPoolFullError(this.options.queueLimit);
    this.queue.push(job);
    this.dispatch();
  }

  /** Ends every worker; queued and running jobs fail. */
  close(): void {
    this.closed = true;
    for (const slot of this.slots) this.end(slot, new WorkerCrashedError("the pool is closed"));
    for (const job of this.queue.splice(0)) job.onFailed(new WorkerCrashedError("the pool is closed"));
    this.report();
  }

  private spawn(): Slot<State> {
    const worker = new Worker(this.options.url);
    const slot: Slot<State> = { worker, state: this.options.initialState(), started: 0, ended: false };
    worker.addEventListener("message", (event: MessageEvent<WorkerReply>) => this.reply(slot, event.data));
    worker.addEventListener("error", (event: ErrorEvent) => this.replace(slot, new WorkerCrashedError(event.message || "uncaught error")));
    worker.addEventListener("close", () => this.replace(slot, new WorkerCrashedError("the thread exited")));
    // An idle pool must not keep the process alive.
    worker.unref();
    return slot;
  }

  private reply(slot: Slot<State>, reply: WorkerReply): void {
    const job = slot.job;
    if (!job || slot.ended) return;
    if (reply.kind === "chunks") {
      for (const bytes of reply.parts) job.onChunk(bytes);
      return;
    }
    this.finish(slot);
    if (reply.kind === "done") job.onDone(reply.result);
    else job.onFailed(new Error(reply.error.message), reply.error);
    this.dispatch();
  }

  private finish(slot: Slot<State>): void {
    slot.job = undefined;
    this.options.observer?.busy((performance.now() - slot.started) / 1000);
  }

  /** A crashed worker: its job fails, a new worker takes its place. */
  private replace(slot: Slot<State>, error: Error): void {
    if (slot.ended || this.closed) return;
    this.end(slot, error);
    this.slots[this.slots.indexOf(slot)] = this.spawn();
    this.dispatch();
  }

  private end(slot: Slot<State>, error: Error): void {
    if (slot.ended) return;
    slot.ended = true;
    slot.worker.terminate();
    const job = slot.job;
    if (job) {
      this.finish(slot);
      job.onFailed(error);
    }
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) break;
      if (slot.job || slot.ended) continue;
      const job = this.queue.shift() as PoolJob<State>;
      try {
        const { data, transfer } = job.message(slot);
        slot.job = job;
        slot.started = performance.now();
        slot.worker.postMessage(data, transfer);
      } catch (error) {
        slot.job = undefined;
        job.onFailed(error as Error);
      }
    }
    this.report();
  }

  private report(): void {
    this.options.observer?.queueLength(this.queue.length);
    this.options.observer?.busyWorkers(this.slots.filter((slot) => slot.job).length);
  }
}
