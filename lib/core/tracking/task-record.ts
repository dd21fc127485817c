import { TaskCancelledError, TaskFailedError, TaskNotFoundError } from '../errors.js';
import { decodeMsgpack, encodeMsgpack } from '../protocol/msgpack.js';

/**
 * Where a tracked task is: `scheduled` (waiting for its time), `waiting` (in the queue),
 * `running`, `done`, `failed` (its handler threw, no retry left, dead letters off), `dead`
 * (a dead letter), `cancelled`, or `unknown` (never tracked, or its record expired).
 */
export type TaskState =
  'scheduled' | 'waiting' | 'running' | 'done' | 'failed' | 'dead' | 'cancelled' | 'unknown';

/** What `status()` tells of a tracked task. */
export interface TaskStatus {
  readonly state: TaskState;
  /** The last progress its handler reported (`currentTask().progress(…)`), if any. */
  readonly progress?: unknown;
  /** The attempts started so far (0 before the first). */
  readonly attempts: number;
}

/** The states a task ends in: its record holds its outcome then. */
const ENDED = new Set(['done', 'failed', 'dead', 'cancelled']);

/** The fields a waiter reads from a record (HMGET order). */
export const OUTCOME_FIELDS = ['state', 'result', 'error'] as const;

/** How a tracked task ended, read from its record; undefined while it has not ended. */
export type Outcome = { readonly value: unknown } | { readonly error: Error };

/**
 * The outcome in a record's `OUTCOME_FIELDS`, or undefined if the task has not ended. A
 * missing record is an outcome too: TaskNotFoundError.
 */
export function readOutcome(
  id: string,
  [state, result, error]: (Buffer | null)[],
): Outcome | undefined {
  if (state === null || state === undefined) {
    return {
      error: new TaskNotFoundError(
        `Task ${id} is unknown: it was not tracked, or its record expired (results are kept for their ttl)`,
      ),
    };
  }
  const name = state.toString();
  if (!ENDED.has(name)) return undefined;
  if (name === 'done') return { value: result ? decodeMsgpack(result) : undefined };
  if (name === 'cancelled') {
    return { error: new TaskCancelledError(`Task ${id} was cancelled before it ran`) };
  }
  const [errorName, message, stack] = error
    ? (decodeMsgpack(error) as [string, string, string | null])
    : ['Error', 'the task failed', null];
  return {
    error: new TaskFailedError(
      message,
      errorName,
      name as 'failed' | 'dead',
      stack === null ? undefined : stack,
    ),
  };
}

/**
 * The largest outcome a task's end message carries (bytes): waiters then need no read. A
 * larger one is read from the record by each waiter, so a big result is not sent to every
 * process that waits on the queue.
 */
export const OUTCOME_IN_MESSAGE = 16_384;

/**
 * The id in an end message, and the record fields it carries (OUTCOME_FIELDS order), or
 * undefined when it carries only the id.
 */
export function parseEndMessage(message: Buffer): [string, (Buffer | null)[] | undefined] {
  const id = message.toString('latin1', 0, 32);
  if (message.length < 36) return [id, undefined];
  const stateEnd = message.indexOf(32, 33);
  if (stateEnd < 0 || message.length < stateEnd + 3) return [id, undefined];
  const state = message.subarray(33, stateEnd);
  const field = message[stateEnd + 1];
  const outcome = message.subarray(stateEnd + 3);
  return [
    id,
    [state, field === 0x72 /* r */ ? outcome : null, field === 0x65 /* e */ ? outcome : null],
  ];
}

/** A handler's error as its record stores it: [name, message, stack or nil]. */
export function encodeTaskError(error: unknown, withStack: boolean): Buffer {
  const known = error instanceof Error;
  return encodeMsgpack([
    known ? error.name : 'Error',
    known ? error.message : String(error),
    withStack && known && error.stack !== undefined ? error.stack : null,
  ]);
}
