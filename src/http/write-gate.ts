/** A write refused because the server's shutdown deadline has passed. */
export class ShuttingDownError extends Error {
  constructor() {
    super("the server is shutting down");
  }
}

/**
 * Closes the commit points at the shutdown deadline. The methods that change what storage and
 * the database hold go through the gate; once it is closed they throw ShuttingDownError, so a
 * push or API write still running at the deadline fails before its commit and leaves the
 * repository as it was. Writes already under way when it closes are waited for: each is one
 * atomic step (a create-only write, a compare-and-swap, a transaction).
 */
export class WriteGate {
  private closed = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  /** `target` with `methods` guarded: refused once closed, tracked while running. */
  guard<T extends object>(target: T, methods: readonly (keyof T & string)[]): T {
    const guarded = new Set<string>(methods);
    return new Proxy(target, {
      get: (object, property) => {
        const value: unknown = Reflect.get(object, property, object);
        if (typeof value !== "function" || typeof property !== "string" || !guarded.has(property)) return value;
        return (...args: unknown[]) => this.pass(() => value.apply(object, args));
      },
    });
  }

  /** Refuses every later write and resolves once the writes under way have settled. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private pass(write: () => unknown): unknown {
    if (this.closed) return Promise.reject(new ShuttingDownError());
    const result = write();
    if (!(result instanceof Promise)) return result;
    this.inFlight.add(result);
    const settled = () => this.inFlight.delete(result);
    result.then(settled, settled);
    return result;
  }
}
