import type { RedisClient } from '../redis/client.js';
import { DEFAULT_DEQUEUE_TIMEOUT, TRACKED_PENDING_TTL } from '../defaults.js';
import { DelayedError } from '../errors.js';
import { type NewDeadLetter, encodeDeadLetter } from '../queue/dead-letters.js';
import type { Queue } from '../queue/queue.js';
import { suffixedTask } from '../queue/schedule.js';
import { scheduleSignals } from '../queue/schedule-signals.js';
import { taskRecordKey } from '../protocol/keys.js';
import { scripts } from '../redis/lua-scripts.js';
import { OUTCOME_IN_MESSAGE } from '../tracking/task-record.js';
import type { TrackingEnvelope } from '../tracking/tracked-call.js';

/**
 * A queue as a worker works it, on the worker's own connection: take tasks, and end them
 * (release, retry, bury). Each step is one atomic script or transaction.
 */
export class WorkerQueue {
  readonly name: string;
  readonly keys: Queue['keys'];
  /** Dead letters kept, or 0 when dead letters are off. */
  readonly deadLetterMaxLength: number;
  readonly rateLimit: Queue['rateLimit'];
  /** While the rate limit holds tasks back: until when (performance.now() ms); else 0. */
  limitedUntil = 0;
  /**
   * While the queue is paused: when to look again (performance.now() ms), unless a resume
   * message comes first; else 0.
   */
  pausedUntil = 0;
  /** Resume messages heard so far: a dequeue answered "paused" after one is not believed. */
  private resumes = 0;

  constructor(
    queue: Queue,
    /** The worker's command connection. */
    readonly redis: RedisClient,
    /**
     * How long a paused queue sits out before the next look, should the resume message be
     * lost (ms): the worker's dequeueTimeout, the longest it waits for anything.
     */
    private readonly pauseLook: number = DEFAULT_DEQUEUE_TIMEOUT,
  ) {
    this.name = queue.name;
    this.keys = queue.keys;
    this.deadLetterMaxLength = queue.deadLetterMaxLength;
    this.rateLimit = queue.rateLimit;
  }

  /**
   * Takes up to `slotIds.length` tasks, recording task i under `slotIds[i]`.
   * @param heldNotifications notifications the caller already popped (0 or 1).
   */
  async dequeue(
    heldNotifications: 0 | 1,
    slotIds: readonly (string | Buffer)[],
  ): Promise<Buffer[]> {
    if (this.rateLimit !== undefined) return this.dequeueLimited(heldNotifications, slotIds);
    const resumes = this.resumes;
    const reply = (await scripts.dequeue.run(this.redis, this.keys, [
      String(heldNotifications),
      ...slotIds,
    ])) as Buffer[] | Buffer;
    if (Array.isArray(reply)) return reply;
    this.sitOutPause(resumes);
    return [];
  }

  /**
   * A dequeue within the rate limit; notes how long the limit (or a pause) holds the queue
   * back.
   */
  private async dequeueLimited(
    heldNotifications: 0 | 1,
    slotIds: readonly (string | Buffer)[],
  ): Promise<Buffer[]> {
    const { max, window } = this.rateLimit!;
    const resumes = this.resumes;
    const reply = (await scripts.dequeueLimited.run(this.redis, this.keys, [
      String(heldNotifications),
      String(max),
      String(window),
      ...slotIds,
    ])) as [number, Buffer[]] | Buffer;
    if (!Array.isArray(reply)) {
      this.sitOutPause(resumes);
      return [];
    }
    const [wait, tasks] = reply;
    this.limitedUntil = wait > 0 ? performance.now() + wait : 0;
    return tasks;
  }

  /**
   * The queue answered "paused": sit out until the next look, unless a resume message came
   * while the dequeue was on its way (the message and the reply travel on two connections, in
   * either order; waiting for a message already heard would cost a whole look).
   */
  private sitOutPause(resumesBefore: number): void {
    this.pausedUntil = this.resumes === resumesBefore ? performance.now() + this.pauseLook : 0;
  }

  /**
   * A resume message was heard: the queue is looked at again now. Returns whether the queue
   * sat a pause out (so the fetch loop, which may wait without it, must be woken).
   */
  resumed(): boolean {
    this.resumes++;
    const satOut = this.pausedUntil !== 0;
    this.pausedUntil = 0;
    return satOut;
  }

  /** Ends the processing of the tasks held by these slots. */
  release(slotIds: readonly (string | Buffer)[]): Promise<number> {
    return this.redis.hdel(this.keys.processing, ...slotIds);
  }

  /** Puts the next attempt of a failed task at the tail and releases its slot, atomically. */
  async retry(slotId: string, nextAttempt: Buffer): Promise<void> {
    await this.redis
      .multi()
      .rpush(this.keys.tasks, nextAttempt)
      .rpush(this.keys.notifications, '1')
      .hdel(this.keys.processing, slotId)
      .exec()
      .then(throwOnTransactionError);
  }

  /**
   * Schedules the next attempt of a failed task `wait` ms from now (Redis' clock) and releases
   * its slot, atomically. Returns when it is due, in ms since the epoch.
   */
  async retryLater(
    slotId: string,
    wait: number,
    nextAttempt: Buffer,
  ): Promise<{ due: number; member: Buffer }> {
    const suffixed = suffixedTask(nextAttempt);
    const [due, now] = (await scripts.retryLater.run(this.redis, this.keys, [
      slotId,
      String(wait),
      suffixed,
    ])) as [number, number];
    scheduleSignals.emit('scheduled', this.name, due - now);
    const member = Buffer.allocUnsafe(16);
    member.writeBigUInt64BE(BigInt(due), 0);
    suffixed.copy(member, 8, 0, 8);
    return { due, member };
  }

  /**
   * Starts an attempt of a tracked task: its number (from 1), -1 when its record is gone
   * (it runs untracked), or 0 if it was cancelled while it waited (the caller releases it
   * without running it).
   */
  async trackStart(tracking: TrackingEnvelope): Promise<number> {
    return (await scripts.trackStart.run(
      this.redis,
      this.keys,
      [tracking.id, String(TRACKED_PENDING_TTL)],
      this.taskKeys(tracking),
    )) as number;
  }

  /**
   * Ends a tracked task, atomically: releases its slot (unless `slotId` is ''), writes its
   * dead letter if it died, stores its outcome, frees its unique key and tells its waiters.
   */
  async finishTracked(
    slotId: string,
    tracking: TrackingEnvelope,
    end: 'done' | 'failed' | 'dead',
    outcome: ['result' | 'error', Buffer],
    letter?: NewDeadLetter,
  ): Promise<void> {
    await scripts.trackFinish.run(
      this.redis,
      this.keys,
      [
        slotId,
        tracking.id,
        end,
        outcome[0],
        outcome[1],
        this.keys.done,
        letter === undefined ? '' : encodeDeadLetter(this.name, letter),
        String(this.deadLetterMaxLength),
        String(OUTCOME_IN_MESSAGE),
      ],
      [
        taskRecordKey(this.name, tracking.id),
        ...(tracking.unique === undefined ? [] : [tracking.unique]),
      ],
    );
  }

  /** A tracked task's failed attempt was put back: its record says where. */
  async trackRequeued(
    tracking: TrackingEnvelope,
    attempt: number,
    scheduled?: { due: number; member: Buffer },
  ): Promise<void> {
    await scripts.trackRequeued.run(
      this.redis,
      this.keys,
      scheduled === undefined
        ? ['queued', '', '', String(attempt)]
        : ['scheduled', String(scheduled.due), scheduled.member, String(attempt)],
      [taskRecordKey(this.name, tracking.id)],
    );
  }

  /** Stores a running tracked task's progress. */
  async trackProgress(tracking: TrackingEnvelope, progress: Buffer): Promise<void> {
    await scripts.trackProgress.run(
      this.redis,
      this.keys,
      [progress],
      [taskRecordKey(this.name, tracking.id)],
    );
  }

  private taskKeys(tracking: TrackingEnvelope): string[] {
    const record = taskRecordKey(this.name, tracking.id);
    return tracking.unique === undefined ? [record] : [record, tracking.unique];
  }

  /**
   * Gives up on a task: stores it as a dead letter (when they are on) and releases its slot,
   * atomically. Returns whether a dead letter was written.
   */
  async bury(slotId: string, letter: NewDeadLetter): Promise<boolean> {
    if (this.deadLetterMaxLength === 0) {
      await this.release([slotId]);
      return false;
    }
    await this.redis
      .multi()
      .rpush(this.keys.dead, encodeDeadLetter(this.name, letter))
      .ltrim(this.keys.dead, -this.deadLetterMaxLength, -1)
      .hdel(this.keys.processing, slotId)
      .exec()
      .then(throwOnTransactionError);
    return true;
  }
}

function throwOnTransactionError(results: [Error | null, unknown][] | null): void {
  if (results === null) throw new DelayedError('Redis transaction was aborted');
  for (const [error] of results) if (error) throw error;
}
