import { DEFAULT_RESULT_TTL, TRACKED_PENDING_TTL } from '../defaults.js';
import { InvalidOptionsError } from '../errors.js';
import { MAX_DURATION } from '../limits.js';
import { taskRecordKey, uniqueTaskKey } from '../protocol/keys.js';
import { encodeMsgpack } from '../protocol/msgpack.js';
import { NodeTask } from '../protocol/task.js';
import { addedTaskOptions } from '../queue/node-task-options.js';
import type { Queue } from '../queue/queue.js';
import { scripts } from '../redis/lua-scripts.js';
import { scheduleArgs, suffixedTask } from '../queue/schedule.js';
import { TaskHandle } from './task-handle.js';
import { newTaskId } from './task-id.js';

/** How a tracked call is enqueued: when, how long its result is kept, and whether it is unique. */
export interface CallOptions {
  /** Run it after this many ms (Redis' clock) instead of now. */
  readonly delay?: number;
  /** Run it at this instant (the caller's clock) instead of now. */
  readonly at?: Date | number;
  readonly result?: {
    /** How long its state and result are kept once it has ended (ms). Default 3,600,000. */
    readonly ttl?: number;
    /** Keep the handler error's stack too, for `TaskFailedError.remoteStack`. Default false. */
    readonly stack?: boolean;
  };
  /**
   * At most one task per key at a time: while a task enqueued with this key is scheduled,
   * waiting or running, another call with the same key enqueues nothing and returns the
   * first one's handle (`created: false`). The key is freed when the task ends or is
   * cancelled, and lives at most `ttl` ms past the task's due time and past the start of
   * its latest attempt.
   */
  readonly unique?: { readonly key: string; readonly ttl: number };
}

/**
 * The fifth element of a tracked task's bytes: a map that Node workers read and the Python
 * and Go workers cannot (a Python worker fails on a fifth element), so tracked tasks are for
 * queues only Node workers serve.
 */
export interface TrackingEnvelope {
  /** The task's id. */
  readonly id: string;
  /** Its unique key (the whole Redis key), if it has one. */
  readonly unique?: string;
  /** Whether its failure keeps the error's stack. */
  readonly stack?: boolean;
}

/** Enqueues (or schedules) a task with a record, and returns its handle. */
export async function callTask(
  queue: Queue,
  task: NodeTask,
  options: CallOptions = {},
): Promise<TaskHandle> {
  if (!(task instanceof NodeTask)) {
    throw new InvalidOptionsError(
      'Only a NodeTask can be tracked: its id travels in a fifth element of the task, which Python and Go workers cannot read',
    );
  }
  const { mode, time, resultTtl, stack, unique } = checkCallOptions(options);
  const id = newTaskId();
  const uniqueKey = unique === undefined ? undefined : uniqueTaskKey(queue.name, unique.key);
  const envelope: TrackingEnvelope = {
    id,
    ...(uniqueKey === undefined ? {} : { unique: uniqueKey }),
    ...(stack ? { stack: true } : {}),
  };
  // What the queue's nodeTaskOptions adds (a trace context, say) travels beside the envelope.
  const added =
    queue.nodeTaskOptions === undefined
      ? undefined
      : addedTaskOptions(queue.nodeTaskOptions, task, queue.name);
  const bytes = encodeMsgpack([
    task.funcPath,
    task.args,
    task.kwargs,
    task.retry,
    added === undefined ? envelope : { ...added, ...envelope },
  ]);
  const keys = [taskRecordKey(queue.name, id)];
  if (uniqueKey !== undefined) keys.push(uniqueKey);
  // A durable queue resolves once replicas hold it; a unique task that already existed wrote
  // nothing, and its wait covers the earlier writes of the connection, which is harmless.
  const reply = (await queue.write(
    () =>
      scripts.trackEnqueue.run(
        queue.redis,
        queue.keys,
        [
          id,
          mode,
          time,
          queue.keys.wake,
          suffixedTask(bytes),
          String(TRACKED_PENDING_TTL),
          String(resultTtl),
          String(unique?.ttl ?? 0),
        ],
        keys,
      ),
    'a tracked enqueue',
  )) as [number, number | Buffer, number?];
  if (reply[0] === 0) return new TaskHandle(queue, String(reply[1]), false);
  const [, due, now] = reply as [number, number, number];
  if (mode !== 'now') queue.scheduled(due - now!);
  return new TaskHandle(queue, id, true, mode === 'now' ? undefined : due);
}

/** The longest unique key a call takes (characters). */
const MAX_UNIQUE_KEY = 1_024;

/**
 * A call's options, checked, as the enqueue script takes them. Exported for integrations
 * that must refuse what a queue refuses, with the same messages (the testing module).
 */
export function checkCallOptions(options: CallOptions): {
  mode: 'now' | 'in' | 'at';
  time: string;
  resultTtl: number;
  stack: boolean;
  unique: { key: string; ttl: number } | undefined;
} {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionsError('Call options must be an object');
  }
  const problems: string[] = [];
  let mode: 'now' | 'in' | 'at' = 'now';
  let time = '0';
  if (options.delay !== undefined && options.at !== undefined) {
    problems.push('give delay or at, not both');
  } else if (options.delay !== undefined || options.at !== undefined) {
    try {
      [mode, time] = scheduleArgs(
        options.delay !== undefined ? { delay: options.delay } : { at: options.at! },
      );
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  const result = options.result ?? {};
  const resultTtl = result.ttl ?? DEFAULT_RESULT_TTL;
  if (!isDuration(resultTtl)) {
    problems.push(
      `result.ttl must be a whole number of ms from 1 to ${MAX_DURATION}, got ${String(resultTtl)}`,
    );
  }
  if (result.stack !== undefined && typeof result.stack !== 'boolean') {
    problems.push(`result.stack must be true or false, got ${String(result.stack)}`);
  }
  const unique = options.unique;
  if (unique !== undefined) {
    if (
      unique === null ||
      typeof unique.key !== 'string' ||
      unique.key.length === 0 ||
      unique.key.length > MAX_UNIQUE_KEY
    ) {
      problems.push(
        `unique.key must be a string of 1 to ${MAX_UNIQUE_KEY} characters, got ${JSON.stringify(unique?.key)}`,
      );
    }
    if (unique === null || !isDuration(unique.ttl)) {
      problems.push(
        `unique.ttl must be a whole number of ms from 1 to ${MAX_DURATION} (a unique key always expires), got ${String(unique?.ttl)}`,
      );
    }
  }
  if (problems.length > 0) {
    throw new InvalidOptionsError(`Invalid call options: ${problems.join('; ')}`);
  }
  return { mode, time, resultTtl, stack: result.stack === true, unique };
}

function isDuration(value: unknown): value is number {
  return (
    typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_DURATION
  );
}
