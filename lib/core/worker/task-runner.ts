import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient } from '../redis/client.js';
import { DEFAULT_ERROR_BACKOFF } from '../defaults.js';
import {
  DelayedError,
  RateLimitedError,
  TaskResultError,
  UnknownHandlerError,
  UnrecoverableError,
} from '../errors.js';
import { type DelayedLogger, errorMessage } from '../logger.js';
import { decodeTask, encodeRetry } from '../protocol/codec.js';
import { encodeMsgpack } from '../protocol/msgpack.js';
import type { DecodedPyTask } from '../protocol/task.js';
import { isTaskId } from '../tracking/task-id.js';
import { encodeTaskError } from '../tracking/task-record.js';
import type { TrackingEnvelope } from '../tracking/tracked-call.js';
import type { NewDeadLetter } from '../queue/dead-letters.js';
import type { ConnectionLoss } from '../redis/connection-loss.js';
import { AttemptDeadline } from './attempt-deadline.js';
import { backoffDelay } from './backoff.js';
import type { HandlerEntry, HandlerRegistry } from './handler-registry.js';
import type { ReleaseBatcher } from './release-batcher.js';
import type { TaskInstrument } from './task-instrument.js';
import type { Slot, SlotPool } from './slot-pool.js';
import { runInTaskContext, type TaskContext, untrackedProgress } from './task-context.js';
import type { TaskEventSink } from './worker-events.js';
import type { WorkerQueue } from './worker-queue.js';

/** What the runner needs from its worker. */
export interface TaskRunnerDeps {
  readonly handlers: HandlerRegistry;
  readonly logger: DelayedLogger;
  readonly events: TaskEventSink;
  /** The worker's command connection, on which a task's outcome is written. */
  readonly redis: RedisClient;
  readonly loss: ConnectionLoss;
  readonly pool: SlotPool;
  readonly releases: ReleaseBatcher;
  /** Aborted when the worker's graceful stop reaches its deadline with tasks still running. */
  readonly shutdownSignal: AbortSignal;
  /** Whether the worker closed: an outcome not written by then is left to a sweeper. */
  readonly closed: () => boolean;
  /** A hook around every handler call (tracing), if any. */
  readonly instrument?: TaskInstrument | undefined;
}

/**
 * Runs one task in its slot and settles it: a release on success; a retry, a dead letter or
 * a logged drop on failure; nothing (the task stays recorded for a sweeper) when the shutdown
 * deadline interrupted it or its outcome cannot be written. Every path ends with the slot
 * free again, never held for ever.
 */
export class TaskRunner {
  constructor(private readonly deps: TaskRunnerDeps) {}

  /**
   * Runs the task and settles it. Rejects only on a defect of the settling itself, which the
   * caller hands to `endedUnsettled` (not wrapped here: that would cost every task a turn).
   */
  async run(queue: WorkerQueue, slot: Slot, bytes: Buffer): Promise<void> {
    let task: DecodedPyTask;
    try {
      const decoded = decodeTask(bytes);
      if (decoded.kind === 'go') {
        const message = `"${decoded.funcPath}" is a Go task; Node workers run PyTask-shaped tasks named after a registered handler`;
        return this.bury(
          queue,
          slot,
          { task: bytes, reason: 'unknown-handler', funcPath: decoded.funcPath, error: message },
          new UnknownHandlerError(message),
        );
      }
      task = decoded;
    } catch (error) {
      return this.bury(
        queue,
        slot,
        { task: bytes, reason: 'undecodable', funcPath: null, error: errorMessage(error) },
        error,
      );
    }
    const tracking = trackingOf(task);
    if (tracking !== undefined) {
      const start = await this.startTracked(queue, slot, tracking);
      if (start !== 'run') {
        if (start === 'cancelled') this.deps.releases.schedule(queue, slot);
        return;
      }
    }
    const entry = this.deps.handlers.get(task.funcPath);
    if (entry === undefined) {
      const message = `No handler named "${task.funcPath}" is registered on this worker`;
      return this.bury(
        queue,
        slot,
        { task: bytes, reason: 'unknown-handler', funcPath: task.funcPath, error: message },
        new UnknownHandlerError(message),
        tracking,
      );
    }
    // Only handlers with a timeout pay for a deadline of their own.
    const deadline =
      entry.timeout === undefined
        ? undefined
        : new AttemptDeadline(entry.timeout, task.funcPath, this.deps.shutdownSignal);
    const context: TaskContext = {
      queue: queue.name,
      name: task.funcPath,
      workerId: slot.id,
      // A for-ever task counts its retries below -1 for a backoff; it is still "for ever".
      retriesLeft: task.retry < 0 ? -1 : task.retry,
      signal: deadline?.signal ?? this.deps.shutdownSignal,
      id: tracking?.id,
      progress:
        tracking === undefined && this.deps.events.listenerCount('progress') === 0
          ? untrackedProgress
          : (value: unknown) => this.progress(queue, slot, task, tracking, value),
    };
    const { events, instrument } = this.deps;
    if (events.listenerCount('active') > 0) {
      events.emit('active', {
        queue: queue.name,
        name: task.funcPath,
        workerId: slot.id,
        id: context.id,
        retriesLeft: context.retriesLeft,
      });
    }
    const args = hasKeys(task.kwargs) ? [...task.args, task.kwargs] : task.args;
    const began = performance.now();
    let result: unknown;
    try {
      result =
        instrument === undefined
          ? runInTaskContext(context, entry.handler, args)
          : runInTaskContext(
              context,
              () =>
                instrument(
                  {
                    queue: queue.name,
                    name: task.funcPath,
                    workerId: slot.id,
                    id: context.id,
                    options: task.options,
                  },
                  () => entry.handler(...args),
                ),
              [],
            );
      // A sync handler's result is not awaited: that saves a turn of the microtask queue.
      if (isPromiseLike(result)) {
        result = await (deadline === undefined ? result : deadline.race(result));
      }
    } catch (error) {
      const duration = performance.now() - began;
      if (this.deps.shutdownSignal.aborted) {
        return this.interrupted(queue, slot, task, error, tracking?.id, duration);
      }
      if (deadline?.expired) {
        this.deps.logger.warn(
          `Task "${task.funcPath}" on queue "${queue.name}" timed out after ${deadline.timeout} ms; if its handler ignores its signal it keeps running, outside the worker's concurrency (and beside its retry, if any)`,
        );
      }
      return this.fail(queue, slot, task, bytes, error, entry, tracking, duration);
    } finally {
      deadline?.clear();
    }
    const duration = performance.now() - began;
    const workerId = slot.id; // a release may give the slot a new id
    if (tracking === undefined) {
      this.deps.releases.schedule(queue, slot);
    } else {
      const end = await this.finishDone(queue, slot, task, tracking, result);
      if (end !== 'done') {
        events.emit('failed', {
          queue: queue.name,
          name: task.funcPath,
          workerId,
          id: tracking.id,
          ...(end === 'unwritten'
            ? {
                // Its end is not recorded: it stays held, and a sweeper runs it again.
                error: new DelayedError(
                  `The end of tracked task ${tracking.id} could not be recorded`,
                ),
                outcome: 'interrupted',
              }
            : // Recorded as failed: its result could not be stored (no retry, no dead letter).
              { error: end, outcome: 'dropped' }),
          duration,
        });
        return;
      }
    }
    if (events.listenerCount('completed') > 0) {
      events.emit('completed', {
        queue: queue.name,
        name: task.funcPath,
        workerId,
        id: tracking?.id,
        duration,
      });
    }
  }

  /** A handler's progress: a `progress` event, and the record of a tracked task. */
  private progress(
    queue: WorkerQueue,
    slot: Slot,
    task: DecodedPyTask,
    tracking: TrackingEnvelope | undefined,
    value: unknown,
  ): Promise<void> {
    let bytes: Buffer | undefined;
    try {
      if (tracking !== undefined) bytes = encodeMsgpack(value);
    } catch (error) {
      return Promise.reject(error);
    }
    this.deps.events.emit('progress', {
      queue: queue.name,
      name: task.funcPath,
      workerId: slot.id,
      id: tracking?.id,
      progress: value,
    });
    return bytes === undefined ? Promise.resolve() : queue.trackProgress(tracking!, bytes);
  }

  /**
   * A task that ended with an error after the shutdown deadline aborted it was stopped, not
   * failed: no retry is spent and no dead letter written. Its slot keeps it recorded (the
   * slot is never reused, the worker is stopping), so once the worker is offline a sweeper
   * runs it again from the start.
   */
  private interrupted(
    queue: WorkerQueue,
    slot: Slot,
    task: DecodedPyTask,
    error: unknown,
    id: string | undefined,
    duration: number,
  ): void {
    this.deps.logger.warn(
      `Task "${task.funcPath}" on queue "${queue.name}" was interrupted by the shutdown deadline (${errorMessage(error)}); a sweeper will run it again`,
    );
    this.deps.events.emit('failed', {
      queue: queue.name,
      name: task.funcPath,
      workerId: slot.id,
      id,
      error,
      outcome: 'interrupted',
      duration,
    });
  }

  private async fail(
    queue: WorkerQueue,
    slot: Slot,
    task: DecodedPyTask,
    bytes: Buffer,
    error: unknown,
    entry: HandlerEntry,
    tracking: TrackedAttempt | undefined,
    duration: number,
  ): Promise<void> {
    if (error instanceof RateLimitedError) {
      return this.later(queue, slot, task, bytes, error, tracking, duration);
    }
    const letter: NewDeadLetter = {
      task: bytes,
      reason: 'failed',
      funcPath: task.funcPath,
      error: errorMessage(error),
    };
    if (task.retry === 0) return this.bury(queue, slot, letter, error, tracking, duration);
    if (error instanceof UnrecoverableError) {
      return this.bury(
        queue,
        slot,
        { ...letter, error: `${letter.error} (unrecoverable: no retry)` },
        error,
        tracking,
        duration,
      );
    }
    const { backoff } = entry;
    let nextAttempt: Buffer;
    try {
      nextAttempt = encodeRetry(task, bytes, backoff !== undefined);
    } catch (encodeError) {
      // Bytes read fine but cannot be written back (nested deeper than the peers allow, say):
      // the task cannot be retried, so it ends here, as a dead letter.
      const why = `not retried: its next attempt cannot be encoded: ${errorMessage(encodeError)}`;
      return this.bury(
        queue,
        slot,
        { ...letter, error: `${letter.error} (${why})` },
        error,
        tracking,
        duration,
      );
    }
    const wait =
      backoff === undefined ? 0 : backoffDelay(backoff, retryNumber(task.retry, entry.retry));
    const left = task.retry < 0 ? 'for ever' : `${task.retry} more time(s)`;
    this.deps.logger.warn(
      `Task "${task.funcPath}" failed, retrying ${left}${backoff === undefined ? '' : ` in ${wait} ms`}: ${errorMessage(error)}`,
    );
    const workerId = slot.id; // settle may give the slot a new id
    let scheduled: { due: number; member: Buffer } | undefined;
    const written = await this.settle(slot, async () => {
      if (backoff === undefined) await queue.retry(workerId, nextAttempt);
      else scheduled = await queue.retryLater(workerId, wait, nextAttempt);
    });
    if (written && tracking !== undefined) this.noteRequeued(queue, tracking, scheduled);
    this.deps.events.emit('failed', {
      queue: queue.name,
      name: task.funcPath,
      workerId,
      id: tracking?.id,
      error,
      outcome: written ? 'retried' : 'interrupted',
      ...(written && backoff !== undefined ? { retryIn: wait } : {}),
      duration,
    });
  }

  /**
   * A handler said it is rate limited: the same bytes (no retry spent) come back after the
   * wait it asked for, released and scheduled in one step.
   */
  private async later(
    queue: WorkerQueue,
    slot: Slot,
    task: DecodedPyTask,
    bytes: Buffer,
    error: RateLimitedError,
    tracking: TrackedAttempt | undefined,
    duration: number,
  ): Promise<void> {
    const workerId = slot.id; // settle may give the slot a new id
    let scheduled: { due: number; member: Buffer } | undefined;
    const written = await this.settle(slot, async () => {
      scheduled = await queue.retryLater(workerId, error.retryIn, bytes);
    });
    if (written && tracking !== undefined) this.noteRequeued(queue, tracking, scheduled);
    this.deps.events.emit('failed', {
      queue: queue.name,
      name: task.funcPath,
      workerId,
      id: tracking?.id,
      error,
      outcome: written ? 'retried' : 'interrupted',
      ...(written ? { retryIn: error.retryIn } : {}),
      duration,
    });
  }

  /** Gives up on a task: a dead letter (or a logged drop) and a released slot. */
  private async bury(
    queue: WorkerQueue,
    slot: Slot,
    letter: NewDeadLetter,
    error?: unknown,
    tracking?: TrackingEnvelope,
    duration?: number,
  ): Promise<void> {
    const kept = queue.deadLetterMaxLength > 0;
    this.deps.logger.error(
      `Task ${letter.funcPath === null ? '(unreadable)' : `"${letter.funcPath}"`} on queue "${queue.name}" ${kept ? 'moved to dead letters' : 'dropped'} (${letter.reason}): ${letter.error}`,
      letter.reason === 'failed' && error instanceof Error ? error.stack : undefined,
    );
    const workerId = slot.id; // settle may give the slot a new id
    const written = await this.settle(slot, () =>
      tracking === undefined
        ? queue.bury(workerId, letter)
        : queue.finishTracked(
            workerId,
            tracking,
            kept ? 'dead' : 'failed',
            [
              'error',
              encodeTaskError(error ?? new DelayedError(letter.error), tracking.stack === true),
            ],
            kept ? letter : undefined,
          ),
    );
    this.deps.events.emit('failed', {
      queue: queue.name,
      name: letter.funcPath,
      workerId,
      id: tracking?.id,
      error: error ?? new DelayedError(letter.error),
      outcome: !written ? 'interrupted' : kept ? 'buried' : 'dropped',
      duration,
    });
  }

  /**
   * Starts a tracked task's attempt: 'run' it, or release it untouched when it was
   * 'cancelled' while it waited. 'unsettled' when the start could not be written: the task
   * stays recorded under a retired slot id, and a sweeper runs it again.
   */
  private async startTracked(
    queue: WorkerQueue,
    slot: Slot,
    tracking: TrackedAttempt,
  ): Promise<'run' | 'cancelled' | 'unsettled'> {
    try {
      tracking.attempt = await this.deps.loss.guard(queue.trackStart(tracking));
      return tracking.attempt === 0 ? 'cancelled' : 'run';
    } catch (error) {
      this.deps.logger.error(
        `Could not start tracked task ${tracking.id} on queue "${queue.name}": ${errorMessage(error)}; a sweeper will requeue it`,
      );
      this.deps.pool.retire([slot]);
      this.deps.pool.free(slot);
      return 'unsettled';
    }
  }

  /**
   * Ends a tracked task that succeeded: its result stored, its slot released, its waiters
   * told, in one step. A result MessagePack cannot carry fails the task instead (no retry:
   * the handler's work is done): that error is returned. 'unwritten' if the end could not
   * be written.
   */
  private async finishDone(
    queue: WorkerQueue,
    slot: Slot,
    task: DecodedPyTask,
    tracking: TrackingEnvelope,
    result: unknown,
  ): Promise<'done' | TaskResultError | 'unwritten'> {
    let outcome: ['result' | 'error', Buffer];
    let failure: TaskResultError | undefined;
    try {
      outcome = ['result', encodeMsgpack(result ?? null)];
    } catch (error) {
      const message = `Task "${task.funcPath}" returned a result that cannot be stored: ${errorMessage(error)}`;
      this.deps.logger.error(message);
      failure = new TaskResultError(message);
      outcome = ['error', encodeTaskError(failure, false)];
    }
    const workerId = slot.id; // settle may give the slot a new id
    const written = await this.settle(slot, () =>
      queue.finishTracked(workerId, tracking, failure === undefined ? 'done' : 'failed', outcome),
    );
    return !written ? 'unwritten' : (failure ?? 'done');
  }

  /**
   * Best effort, after the retry is written: a record that keeps saying 'running' is
   * corrected by the next attempt's start. Written only while the record still says this
   * attempt runs, so it never overwrites a later attempt's state.
   */
  private noteRequeued(
    queue: WorkerQueue,
    tracking: TrackedAttempt,
    scheduled: { due: number; member: Buffer } | undefined,
  ): void {
    if (tracking.attempt < 1) return;
    queue.trackRequeued(tracking, tracking.attempt, scheduled).catch((error: unknown) => {
      this.deps.logger.warn(
        `Could not note the retry of tracked task ${tracking.id}: ${errorMessage(error)}`,
      );
    });
  }

  /**
   * Frees a slot once the write that ends its task is done. If that write failed, its
   * outcome is unknown and the processing entry may still hold the task: the slot takes a
   * new id, so the old entry is left to the sweeper instead of being overwritten.
   */
  private async settle(slot: Slot, write: () => Promise<unknown>): Promise<boolean> {
    // Disconnected: wait for the reconnect rather than fail at once, so a blip does not turn
    // an outcome into a re-run. A worker that closes meanwhile leaves the task recorded.
    while (this.deps.redis.status !== 'ready') {
      if (this.deps.closed()) return false;
      await sleep(DEFAULT_ERROR_BACKOFF / 10);
    }
    let written = true;
    try {
      await this.deps.loss.guard(write());
    } catch (error) {
      this.deps.logger.error(
        `Could not record a task's outcome: ${errorMessage(error)}; a sweeper will requeue it`,
      );
      this.deps.pool.retire([slot]);
      written = false;
    }
    this.deps.pool.free(slot);
    return written;
  }

  /**
   * The last resort when ending a task threw before its outcome was written (a defect, not a
   * Redis error: those are handled in settle). The task stays recorded under the slot's id;
   * the slot takes a new id, so the old one expires and a sweeper runs the task again, and
   * the slot serves the next task instead of being held for ever.
   */
  endedUnsettled(queue: WorkerQueue, slot: Slot, error: unknown): void {
    const unsettled = slot.state === 'running';
    if (unsettled) {
      this.deps.pool.retire([slot]);
      this.deps.pool.free(slot);
    }
    try {
      this.deps.logger.error(
        `Ending a task on queue "${queue.name}" failed: ${errorMessage(error)}${unsettled ? '; a sweeper will requeue it' : ''}`,
        error instanceof Error ? error.stack : undefined,
      );
    } catch {
      // The logger itself may be what threw; there is nobody left to tell.
    }
  }
}

/**
 * Which retry of its task the next attempt is, from 1: the retries a task has used are not
 * on the wire, so they are read from its retry budget. A for-ever task counts them in its
 * negative budget (-1 before the first retry, -2 before the second, …). A counted task has
 * used `declared - left` of the retries its handler gives; a caller that gave more than
 * that (a Python `retry=10` to a handler declaring 3) gets the first wait until its budget
 * comes within the handler's.
 */
export function retryNumber(left: number, declared: number): number {
  if (left < 0) return -left;
  return declared >= left ? declared - left + 1 : 1;
}

/** A task's tracking envelope (the fifth element), if it has a well-formed one. */
/** A tracked task's envelope, and the number of the attempt running (-1: untracked now). */
interface TrackedAttempt extends TrackingEnvelope {
  attempt: number;
}

function trackingOf(task: DecodedPyTask): TrackedAttempt | undefined {
  const options = task.options;
  if (options === undefined || !isTaskId(options.id)) return undefined;
  const unique = typeof options.unique === 'string' ? options.unique : undefined;
  return {
    id: options.id,
    ...(unique === undefined ? {} : { unique }),
    stack: options.stack === true,
    attempt: -1,
  };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function hasKeys(record: Record<string, unknown>): boolean {
  for (const _ in record) return true;
  return false;
}
