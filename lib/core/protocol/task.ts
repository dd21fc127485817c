/**
 * The tasks a queue carries, as the delayed family lays them out on the wire.
 *
 * - `PyTask`: `[func_path, args, kwargs, retry]`, run by Python workers (`"module:func"`).
 * - `NodeTask`: the same layout addressed to a Node handler by name (`"Class:method"`); this
 *   is also what Python's `PyTask` and Go's `NewPyTask` produce when they call us.
 * - `GoTask`: `[func_path, payload]`, run by Go workers that registered `func_path`.
 */
export type Kwargs = Readonly<Record<string, unknown>>;

/** Retry count meaning "retry for ever" (delayed 1.2 semantics). */
export const RETRY_FOREVER = -1;

export class PyTask {
  readonly funcPath: string;
  readonly args: readonly unknown[];
  readonly kwargs: Kwargs;
  readonly retry: number;

  constructor(funcPath: string, args: readonly unknown[] = [], kwargs: Kwargs = {}, retry = 0) {
    if (typeof funcPath !== 'string' || funcPath.length === 0) {
      throw new TypeError(
        `A task needs a non-empty function path or name, got ${String(funcPath)}`,
      );
    }
    if (!Array.isArray(args)) {
      throw new TypeError(`Task "${funcPath}": args must be an array, got ${typeof args}`);
    }
    if (kwargs === null || typeof kwargs !== 'object' || Array.isArray(kwargs)) {
      throw new TypeError(`Task "${funcPath}": kwargs must be a plain object`);
    }
    if (!Number.isInteger(retry) || retry < RETRY_FOREVER) {
      throw new TypeError(
        `Task "${funcPath}": retry must be an integer >= -1 (-1 retries for ever), got ${retry}`,
      );
    }
    this.funcPath = funcPath;
    this.args = args;
    this.kwargs = kwargs;
    this.retry = retry;
  }
}

/** A task for a Node handler, named `"Class:method"` unless `@Task()` gave another name. */
export class NodeTask extends PyTask {
  get name(): string {
    return this.funcPath;
  }
}

export class GoTask {
  readonly funcPath: string;
  readonly args: readonly unknown[];

  /**
   * @param funcPath the Go function as registered by the Go worker, e.g. `"main.Send"`.
   * @param args the call's arguments; a Go struct travels as an array of its fields in order,
   *   a variadic tail as one array.
   */
  constructor(funcPath: string, args: readonly unknown[] = []) {
    if (typeof funcPath !== 'string' || funcPath.length === 0) {
      throw new TypeError(`A Go task needs a non-empty function path, got ${String(funcPath)}`);
    }
    if (!Array.isArray(args)) {
      throw new TypeError(`Go task "${funcPath}": args must be an array, got ${typeof args}`);
    }
    this.funcPath = funcPath;
    this.args = args;
  }
}

export type Task = PyTask | GoTask;

/** A task read back from Redis. */
export type DecodedTask = DecodedPyTask | DecodedGoTask;

export interface DecodedPyTask {
  readonly kind: 'py';
  readonly funcPath: string;
  readonly args: unknown[];
  readonly kwargs: Record<string, unknown>;
  readonly retry: number;
  /** The optional fifth element written by Node producers; peers never write it. */
  readonly options: Record<string, unknown> | undefined;
}

export interface DecodedGoTask {
  readonly kind: 'go';
  readonly funcPath: string;
  readonly payload: Uint8Array;
}
