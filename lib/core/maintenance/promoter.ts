import type { Redis } from 'ioredis';
import { DEFAULT_QUIT_TIMEOUT } from '../defaults.js';
import { type DelayedLogger, errorMessage } from '../logger.js';
import type { QueueKeys } from '../protocol/keys.js';
import { scheduleSignals } from '../queue/schedule-signals.js';
import { withinTimeout } from '../redis/connection.js';
import { scripts } from '../redis/lua-scripts.js';

/** A queue as the promoter sees it: its keys, on a connection. */
export interface PromotedQueue {
  readonly name: string;
  readonly keys: QueueKeys;
  readonly redis: Redis;
}

/** Tasks moved per script call: the script unpacks them, and Lua's unpack() has a limit. */
const TASKS_PER_CALL = 1_000;
/**
 * The longest wait between two looks at the schedule. A task scheduled by another process
 * for earlier than the promoter's next look is late by at most this much; one scheduled by
 * this process re-arms the promoter at once (scheduleSignals).
 */
export const PROMOTE_MAX_WAIT = 1_000;

/**
 * Moves scheduled tasks into their queues when they are due. No leader: every worker and
 * every sweeper runs one, the move is one atomic, idempotent script per queue, and a task
 * moves once however many promoters look. Each look arms a timer for the next due task
 * (measured on Redis' clock, so the host's clock plays no part), at most PROMOTE_MAX_WAIT
 * ahead, so a timer that died with a connection costs a second, never hours.
 */
export class Promoter {
  private readonly queues: PromotedQueue[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (local ms), to re-arm only for something earlier. */
  private armedFor = Infinity;
  private running = false;
  private promoting: Promise<void> | undefined;
  private again = false;

  constructor(
    queues: readonly PromotedQueue[],
    private readonly logger: DelayedLogger,
    /** How long one look may wait for Redis. */
    private readonly redisTimeout: number,
  ) {
    for (const queue of queues) this.add(queue);
  }

  /** Adds a queue (one already promoted, by name, is ignored). */
  add(queue: PromotedQueue): void {
    if (!this.queues.some((known) => known.name === queue.name)) this.queues.push(queue);
  }

  /** Looks now, then whenever a task comes due. */
  start(): void {
    if (this.running) return;
    this.running = true;
    scheduleSignals.on('scheduled', this.scheduled);
    this.nudge();
  }

  /** Stops looking; waits for a look in progress, at most 2 s (a move is atomic either way). */
  async stop(): Promise<void> {
    this.running = false;
    scheduleSignals.off('scheduled', this.scheduled);
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.promoting === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.promoting,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, DEFAULT_QUIT_TIMEOUT))),
    ]);
    clearTimeout(timer);
  }

  /** Looks now (after a reconnect, say). */
  nudge(): void {
    this.arm(0);
  }

  private readonly scheduled = (queue: string, dueIn: number): void => {
    if (this.queues.some((known) => known.name === queue)) this.arm(Math.max(0, dueIn));
  };

  private arm(ms: number): void {
    if (!this.running) return;
    // Never beyond a look's longest wait (a far-future task would overflow a Node timer), on
    // a clock that does not jump with the wall clock.
    ms = Math.min(ms, PROMOTE_MAX_WAIT);
    const at = performance.now() + ms;
    if (this.timer !== undefined && at >= this.armedFor) return;
    clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(this.look, ms);
    this.timer.unref();
  }

  private readonly look = (): void => {
    this.timer = undefined;
    this.armedFor = Infinity;
    if (this.promoting !== undefined) {
      this.again = true;
      return;
    }
    // promoteAll catches Redis errors itself; a throwing logger must not stop the promoter.
    this.promoting = this.promoteAll()
      .catch(() => PROMOTE_MAX_WAIT)
      .then((wait) => {
        this.promoting = undefined;
        if (this.again) {
          this.again = false;
          wait = 0;
        }
        this.arm(wait);
      });
  };

  /** One look at every queue; resolves with how long to wait before the next (never rejects). */
  private async promoteAll(): Promise<number> {
    let wait = PROMOTE_MAX_WAIT;
    for (const queue of this.queues) {
      // Disconnected (a worker's connection has no offline queue): look again later.
      if (queue.redis.status !== 'ready') continue;
      try {
        for (;;) {
          const [moved, now, nextDue] = (await withinTimeout(
            queue.redis,
            scripts.promote.run(queue.redis, queue.keys, [String(TASKS_PER_CALL)]),
            this.redisTimeout,
            'a move of due tasks',
          )) as [number, number, number];
          if (moved === TASKS_PER_CALL) continue;
          if (nextDue >= 0) wait = Math.min(wait, Math.max(0, nextDue - now));
          break;
        }
      } catch (error) {
        if (queue.redis.status === 'ready') {
          this.logger.warn(
            `Moving due tasks of queue "${queue.name}" failed: ${errorMessage(error)}; trying again`,
          );
        }
      }
    }
    return wait;
  }
}
