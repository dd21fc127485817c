import type { QueueWork } from './queue/wait-for-drained.js';

/** Base class of every error the engine throws on purpose. */
export class DelayedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bytes in a queue that are not a task this library can read. */
export class TaskDecodeError extends DelayedError {}

/** A task names no handler registered on this worker. */
export class UnknownHandlerError extends DelayedError {}

/** Options that cannot work, found before anything starts. */
export class InvalidOptionsError extends DelayedError {}

/** Two handlers claim one task name. */
export class DuplicateHandlerError extends DelayedError {}

/** The Redis server lacks a command the worker needs. */
export class UnsupportedRedisError extends DelayedError {}

/** The reason of a task's abort signal: the worker's graceful stop ran out of time. */
export class ShutdownDeadlineError extends DelayedError {}

/**
 * Yours to throw from a handler that hit a limit it cannot pass now (an API's 429, say):
 * the task runs again in `retryIn` ms, and no retry is spent. A wait that is no number
 * (a header that was missing or a date) becomes 1 s; any wait is at least 10 ms, so a task
 * never comes straight back in a loop, and at most 2147483647 ms.
 *
 * ```ts
 * const seconds = Number(response.headers.get('retry-after'));
 * if (response.status === 429) throw new RateLimitedError(seconds * 1_000);
 * ```
 */
export class RateLimitedError extends DelayedError {
  /** How long to wait before the next attempt, in ms. */
  readonly retryIn: number;

  constructor(retryIn: number, message?: string) {
    const wait = Number.isFinite(retryIn)
      ? Math.min(2 ** 31 - 1, Math.max(MIN_RATE_LIMITED_WAIT, Math.ceil(retryIn)))
      : DEFAULT_RATE_LIMITED_WAIT;
    super(message ?? `Rate limited: retry in ${wait} ms`);
    this.retryIn = wait;
  }
}

/** The wait of a RateLimitedError given no usable number. */
const DEFAULT_RATE_LIMITED_WAIT = 1_000;
/** The shortest wait of a RateLimitedError: never straight back in a loop. */
const MIN_RATE_LIMITED_WAIT = 10;

/**
 * A task's attempt ran past its handler's `timeout`: the reason of its abort signal, and the
 * error the attempt failed with (retries and backoff apply).
 */
export class TaskTimeoutError extends DelayedError {}

/**
 * Redis could not be reached in time (refused, unresolvable, silent, or a connection that
 * was closed), or refused the connection's settings (password, database). The message names
 * the address and the cause; `cause` holds the underlying error when there is one.
 */
export class RedisUnavailableError extends DelayedError {}

/**
 * A connection closed while a command was in flight: whether the command was carried out is
 * unknown. The worker treats its own such commands as uncertain (see ConnectionLoss).
 */
export class ConnectionLostError extends DelayedError {}

/**
 * Thrown by a handler to say a retry cannot help (bad input, a permanent refusal): the task
 * becomes a dead letter at once, whatever retries it has left.
 */
export class UnrecoverableError extends DelayedError {}

/** A `@Task()` handler that cannot be run as declared (on a request- or transient-scoped provider). */
export class InvalidHandlerError extends DelayedError {}

/** A worker could not start (Redis unreachable or too old); `cause` holds why. */
export class WorkerStartError extends DelayedError {}

/**
 * A tracked task ended without a result: its handler threw (`state` 'failed', or 'dead' when
 * it became a dead letter). The message and `errorName` are the handler error's; its stack
 * (`remoteStack`) travels only when the call asked for it (`result: { stack: true }`).
 */
export class TaskFailedError extends DelayedError {
  constructor(
    message: string,
    /** The name of the error the handler threw, e.g. 'TypeError'. */
    readonly errorName: string,
    /** How the task ended: 'failed' (dropped) or 'dead' (a dead letter). */
    readonly state: 'failed' | 'dead',
    /** The handler error's stack, in the worker's process, when the call asked for it. */
    readonly remoteStack?: string,
  ) {
    super(message);
  }
}

/** A tracked task was cancelled before it ran, so it has no result. */
export class TaskCancelledError extends DelayedError {}

/**
 * A tracked task is unknown: it was never tracked, or its record expired (a result is kept
 * for its `ttl` after the task ends).
 */
export class TaskNotFoundError extends DelayedError {}

/** `result()` waited its whole timeout and the task had not ended. */
export class ResultTimeoutError extends DelayedError {}

/** A tracked task's handler returned a value MessagePack cannot carry (a function, say). */
export class TaskResultError extends DelayedError {}

/**
 * `waitForDrained` waited its whole timeout and a queue still had work: `left` holds what
 * each such queue had at the last read.
 */
export class DrainTimeoutError extends DelayedError {
  constructor(
    message: string,
    /** What was left, per queue that was not drained, at the last read. */
    readonly left: readonly QueueWork[],
  ) {
    super(message);
  }
}

/**
 * A data queue's put failed, wholly or part-way (each script call is atomic, a big put takes
 * several): `put` holds the ids of the items that were put, `unknown` those of a call that
 * got no answer (Redis silent past `redisTimeout`, or the connection closed while it was in
 * flight: it may have run); the others were not put.
 */
export class DataPutError extends DelayedError {
  constructor(
    message: string,
    /** Ids of the items that were put, in the order of the items given. */
    readonly put: readonly string[],
    /** Ids of the items whose call got no answer: they may have been put. */
    readonly unknown: readonly string[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Items of a data queue that are not MessagePack (written by something else than a put):
 * `batch` holds the items of the same get that could be read (handled as usual), `records`
 * the raw bytes of the others, by id.
 */
export class DataDecodeError extends DelayedError {
  constructor(
    message: string,
    /** The items of the same call that could be read (a DataBatch from a get). */
    readonly batch: Map<string, unknown>,
    /** Item id -> the raw record that could not be read. */
    readonly records: ReadonlyMap<string, Buffer>,
  ) {
    super(message);
  }
}

/**
 * A durable write (QueueOptions.durable) reached the primary, but fewer replicas than asked
 * confirmed it within the timeout, or they could not be counted. The write is done; it may
 * be lost only if that primary fails (or failed: `connectionLost`) before a replica copies
 * it. Sending it again would write it twice.
 */
export class NotReplicatedError extends DelayedError {
  constructor(
    message: string,
    /** Replicas that confirmed the write in time. */
    readonly replicas: number,
    /** Replicas asked for. */
    readonly wanted: number,
    /**
     * Whether the connection to the primary that took the write closed (or its slot moved)
     * before the replicas were counted: that primary may have failed, and the write with it.
     * False: the primary answered, and holds the write.
     */
    readonly connectionLost = false,
  ) {
    super(message);
  }
}
