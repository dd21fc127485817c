/**
 * Every default of the engine, in one place. Durations are in milliseconds. The keep-alive
 * and dequeue values match the Python and Go peers so that mixed fleets judge liveness alike.
 */
export const DEFAULT_QUEUE_NAME = 'default';
export const DEFAULT_CONCURRENCY = 1;
/** How long a worker's liveness key lives without a refresh. */
export const DEFAULT_KEEP_ALIVE_TIMEOUT = 60_000;
/** How often a worker refreshes its liveness keys. */
export const DEFAULT_KEEP_ALIVE_INTERVAL = 15_000;
/** How long one BLPOP waits for a notification before the loop looks around again. */
export const DEFAULT_DEQUEUE_TIMEOUT = 1_000;
/** How long a graceful stop waits for in-flight tasks before leaving them to the sweeper. */
export const DEFAULT_SHUTDOWN_TIMEOUT = 10_000;
/** How often a sweeper recovers lost tasks. */
export const DEFAULT_SWEEP_INTERVAL = 60_000;
/** Dead letters kept per queue; the oldest are trimmed. */
export const DEFAULT_DEAD_LETTER_MAX_LENGTH = 10_000;
/** Pause after a Redis error in the fetch loop before trying again. */
export const DEFAULT_ERROR_BACKOFF = 1_000;
/** How long closing a connection may take before it is cut. */
export const DEFAULT_QUIT_TIMEOUT = 2_000;
/**
 * How long an operation waits for an unreachable Redis before failing with a
 * RedisUnavailableError: a worker's start, an enqueue, a sweep.
 */
export const DEFAULT_REDIS_TIMEOUT = 5_000;
/** How long a tracked task's record (its state and result) is kept once it has ended. */
export const DEFAULT_RESULT_TTL = 3_600_000;
/**
 * How long a tracked task's record is kept past its due time while the task has not ended
 * (it waits in a backlog, or runs): a bound, so that a record whose task is gone for good (a
 * dead letter removed, a queue deleted) does not stay for ever.
 */
export const TRACKED_PENDING_TTL = 7 * 24 * 3_600_000;
/** How long `result()` waits for a tracked task to end when no timeout is given. */
export const DEFAULT_RESULT_TIMEOUT = 60_000;
/** How long `waitForDrained` waits for its queues to empty before it fails. */
export const DEFAULT_DRAIN_TIMEOUT = 10_000;
/**
 * How long the queues must read empty, read after read, before `waitForDrained` resolves: a
 * task on its way between two queues, or enqueued by a handler without awaiting it, lands
 * within it.
 */
export const DEFAULT_DRAIN_SETTLE = 50;
/** Time between two reads of `waitForDrained`. */
export const DEFAULT_DRAIN_INTERVAL = 10;
