/**
 * Sizes of the work one script call does. A script blocks Redis while it runs, so each is
 * bounded; callers split bigger jobs into calls of these sizes. (The scripts also split their
 * own RPUSH/LPUSH/HSET calls at 1,000 arguments, under Lua's unpack() limit.)
 */
/** Tasks per enqueue script call. */
export const TASKS_PER_ENQUEUE_CALL = 10_000;
/** Dead letters per requeue script call. */
export const DEAD_LETTERS_PER_REQUEUE_CALL = 500;

/** The longest duration an option takes, in ms: the longest delay a Node timer keeps (about 24.8 days). */
export const MAX_DURATION = 2 ** 31 - 1;

/** The most entries one page of an operator's listing reads (QueueInspector). */
export const MAX_INSPECT_PAGE = 1_000;
