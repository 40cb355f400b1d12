/** Told of every call of a wrapped object's methods: which, how long it took, whether it failed. */
export interface CallObserver {
  observe(operation: string, seconds: number, failed: boolean): void;
}

/**
 * `target` with every method call timed: the blob store and the database are wrapped once, where
 * the server wires them, so neither the backends nor their callers know of metrics, and methods
 * added to their interfaces later are timed too. A call that returns a promise is timed until
 * it settles. The operation is the method's name.
 */
export function timeCalls<T extends object>(target: T, observer: CallObserver): T {
  const wrappers = new Map<string, { method: Function; timed: Function }>();
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== "function" || typeof property !== "string") return value;
      const known = wrappers.get(property);
      if (known?.method === value) return known.timed;
      const timed = timedMethod(object, value, property, observer);
      wrappers.set(property, { method: value, timed });
      return timed;
    },
  });
}

function timedMethod(object: object, method: Function, operation: string, observer: CallObserver): Function {
  return (...args: unknown[]) => {
    const start = performance.now();
    const done = (failed: boolean) => observer.observe(operation, (performance.now() - start) / 1000, failed);
    let result: unknown;
    try {
      result = method.apply(object, args);
    } catch (error) {
      done(true);
      throw error;
    }
    if (!(result instanceof Promise)) {
      done(false);
      return result;
    }
    // Observed beside the caller, who gets the method's own promise.
    result.then(
      () => done(false),
      () => done(true),
    );
    return result;
  };
}
