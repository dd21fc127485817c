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
 * Redis could not be reached in time (refused, unresolvable, silent, or a connection that
 * was closed), or refused the connection's settings (password, database). The message names
 * the address and the cause; `cause` holds the underlying error when there is one.
 */
export class RedisUnavailableError extends DelayedError {}
