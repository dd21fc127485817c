import { MAX_INSPECT_PAGE } from '../limits.js';
import { InvalidOptionsError } from '../errors.js';
import type { Queue } from '../queue/queue.js';
import { isCluster } from '../redis/connection.js';
import { type TaskSummary, summarizeTask } from './task-summary.js';

/** A queue's numbers at one instant, read in one transaction. */
export interface QueueCounts {
  readonly queue: string;
  /** Tasks waiting in the list. */
  readonly waiting: number;
  /** Tasks held by workers (the processing hash). */
  readonly running: number;
  /** Tasks scheduled for later (not moved into the list yet). */
  readonly scheduled: number;
  /** Dead letters kept. */
  readonly dead: number;
  /** Periodic and cron schedules. */
  readonly schedules: number;
  /** Whether the queue is paused (workers of this library take nothing from it). */
  readonly paused: boolean;
  /**
   * How late the most overdue scheduled task is, in ms: 0 when none is due. A task moves in
   * within ms of its time while a worker or sweeper runs, so a growing figure means none does.
   */
  readonly lateness: number;
  /** When the next scheduled task is due (ms since the epoch), or null. */
  readonly nextDueAt: number | null;
  /** Redis' clock when this was read, in ms since the epoch. */
  readonly at: number;
}

/** A task held by a worker slot. */
export interface RunningTask {
  /** The slot's worker id (also its liveness key). */
  readonly workerId: string;
  /**
   * Whether its liveness key exists: false means the worker died (or lost Redis for longer
   * than its keepAliveTimeout) and a sweeper will put the task back.
   */
  readonly alive: boolean;
  /** Ms until its liveness key expires, or null when it has none or is gone. */
  readonly expiresIn: number | null;
  readonly task: TaskSummary;
}

/** A task in the queue's schedule. */
export interface ScheduledEntry {
  /** Its id in the schedule, as `cancel()` takes it. */
  readonly id: string;
  /** When it is due, in ms since the epoch. */
  readonly dueAt: number;
  readonly task: TaskSummary;
}

/** One page of a listing and where the next one starts (null: this was the last). */
export interface Page<T> {
  readonly items: T[];
  readonly next: string | null;
}

/**
 * Read-only views of one queue for operators (the CLI, the dashboard, metrics, health):
 * counts, and pages of waiting, running and scheduled tasks. Every call is bounded by its
 * page size, never by the queue's length (LRANGE, HSCAN and ZRANGE by index), so it is
 * safe on a queue of millions; and by the queue's `redisTimeout` when Redis is away.
 */
export class QueueInspector {
  constructor(private readonly queue: Queue) {}

  get name(): string {
    return this.queue.name;
  }

  /** Every count in one MULTI, so they describe the same instant. */
  async counts(): Promise<QueueCounts> {
    const { keys, redis } = this.queue;
    const replies = await this.queue.command(
      () =>
        redis
          .multi()
          .llen(keys.tasks)
          .hlen(keys.processing)
          .zcard(keys.scheduled)
          .llen(keys.dead)
          .hlen(keys.schedules)
          .exists(keys.paused)
          .zrange(keys.scheduled, 0, 0, 'WITHSCORES')
          .time()
          .exec(),
      'reading the counts',
    );
    const values = (replies ?? []).map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    const [waiting, running, scheduled, dead, schedules, paused, first, time] = values as [
      number,
      number,
      number,
      number,
      number,
      number,
      string[],
      [string, string],
    ];
    const at = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
    const nextDueAt = first.length === 2 ? Number(first[1]) : null;
    return {
      queue: this.queue.name,
      waiting,
      running,
      scheduled,
      dead,
      schedules,
      paused: paused === 1,
      lateness: nextDueAt === null ? 0 : Math.max(0, at - nextDueAt),
      nextDueAt,
      at,
    };
  }

  /** Waiting tasks from the head (the next to run) on: `offset`, at most `limit`. */
  async waiting(offset = 0, limit = 50): Promise<TaskSummary[]> {
    const size = checkPage(offset, limit);
    const bytes = await this.queue.command(
      () => this.queue.redis.lrangeBuffer(this.queue.keys.tasks, offset, offset + size - 1),
      'reading waiting tasks',
    );
    return bytes.map(summarizeTask);
  }

  /**
   * Tasks held by worker slots, about `limit` per page (HSCAN's COUNT is a hint: a page may
   * hold a few more), with each slot's liveness. Pass the page's `next` to go on.
   */
  async running(cursor: string | null = null, limit = 50): Promise<Page<RunningTask>> {
    const size = checkPage(0, limit);
    const { redis, keys } = this.queue;
    const [next, flat] = await this.queue.command(
      () => redis.hscanBuffer(keys.processing, cursor ?? '0', 'COUNT', size),
      'reading running tasks',
    );
    const pairs: [string, Buffer][] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!.toString(), flat[i + 1]!]);
    let ttls: number[] = [];
    if (pairs.length > 0 && isCluster(redis)) {
      // Worker ids of peers carry no tag and live in other slots: one command each.
      ttls = await this.queue.command(
        () => Promise.all(pairs.map(([workerId]) => redis.pttl(workerId).then(Number, () => -2))),
        'reading worker liveness',
      );
    } else if (pairs.length > 0) {
      const pipeline = redis.pipeline();
      for (const [workerId] of pairs) pipeline.pttl(workerId);
      const replies = await this.queue.command(() => pipeline.exec(), 'reading worker liveness');
      ttls = (replies ?? []).map(([error, value]) => (error ? -2 : Number(value)));
    }
    const nextCursor = next.toString();
    return {
      items: pairs.map(([workerId, bytes], i) => {
        const ttl = ttls[i] ?? -2;
        return {
          workerId,
          alive: ttl !== -2,
          expiresIn: ttl >= 0 ? ttl : null,
          task: summarizeTask(bytes),
        };
      }),
      next: nextCursor === '0' ? null : nextCursor,
    };
  }

  /** Scheduled tasks, soonest first: `offset`, at most `limit`. */
  async scheduled(offset = 0, limit = 50): Promise<ScheduledEntry[]> {
    const size = checkPage(offset, limit);
    const { redis, keys } = this.queue;
    const flat = await this.queue.command(
      () => redis.zrangeBuffer(keys.scheduled, offset, offset + size - 1, 'WITHSCORES'),
      'reading scheduled tasks',
    );
    const entries: ScheduledEntry[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const member = flat[i]!;
      // A member is the task's id (16 bytes: its due time, then a suffix) and its bytes.
      entries.push({
        id: member.toString('hex', 0, 16),
        dueAt: Number(flat[i + 1]!.toString()),
        task: summarizeTask(member.subarray(16)),
      });
    }
    return entries;
  }
}

function checkPage(offset: number, limit: number): number {
  if (!Number.isInteger(offset) || offset < 0) {
    throw new InvalidOptionsError(`offset must be a whole number >= 0, got ${String(offset)}`);
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_INSPECT_PAGE) {
    throw new InvalidOptionsError(
      `limit must be a whole number from 1 to ${MAX_INSPECT_PAGE}, got ${String(limit)}`,
    );
  }
  return limit;
}
