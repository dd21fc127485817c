import type { RedisClient } from '../redis/client.js';
import { type DelayedLogger, errorMessage } from '../logger.js';
import type { QueueKeys } from '../protocol/keys.js';
import { scheduleSignals } from '../queue/schedule-signals.js';
import { duplicateConnection, withinTimeout } from '../redis/connection.js';
import { scripts } from '../redis/lua-scripts.js';
import { DueLoop } from './due-loop.js';
import { WakeListener } from './wake-listener.js';

/** A queue as the promoter sees it: its keys, on a connection. */
export interface PromotedQueue {
  readonly name: string;
  readonly keys: QueueKeys;
  readonly redis: RedisClient;
}

/** Tasks moved per script call: the script unpacks them, and Lua's unpack() has a limit. */
const TASKS_PER_CALL = 1_000;
/**
 * The longest wait between two looks at the schedule. A task scheduled for earlier than the
 * promoter's next look re-arms it at once: by scheduleSignals from this process, by a
 * message on the queue's wake channel from another. A missed message costs at most this.
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
  private readonly loop = new DueLoop(() => this.promoteAll(), PROMOTE_MAX_WAIT);
  private readonly wakes: WakeListener;
  private started = false;

  constructor(
    queues: readonly PromotedQueue[],
    private readonly logger: DelayedLogger,
    /** How long one look may wait for Redis. */
    private readonly redisTimeout: number,
    /**
     * A connection for wake-ups, opened by the caller (a worker opens it with its others);
     * without one, the promoter opens its own when it starts.
     */
    private readonly subscriber?: RedisClient,
    /**
     * Told when a queue is resumed: the resume message travels on the wake channel this
     * promoter listens to anyway, so a worker hears it without a connection of its own.
     */
    onResume?: (queue: string) => void,
  ) {
    this.wakes = new WakeListener(logger, this.scheduled, onResume);
    for (const queue of queues) this.add(queue);
  }

  /** Adds a queue (one already promoted, by name, is ignored). */
  add(queue: PromotedQueue): void {
    if (this.queues.some((known) => known.name === queue.name)) return;
    this.queues.push(queue);
    this.wakes.listen(queue.name, queue.keys.wake);
    if (this.started) this.listenForWakes(queue.redis);
  }

  /** Looks now, then whenever a task comes due. */
  start(): void {
    scheduleSignals.off('scheduled', this.scheduled); // started twice: listen once
    scheduleSignals.on('scheduled', this.scheduled);
    this.started = true;
    const first = this.queues[0];
    if (first !== undefined) this.listenForWakes(first.redis);
    this.loop.start();
  }

  /** Stops looking; waits for a look in progress, at most 2 s (a move is atomic either way). */
  async stop(): Promise<void> {
    scheduleSignals.off('scheduled', this.scheduled);
    this.started = false;
    await Promise.all([this.loop.stop(), this.wakes.stop()]);
  }

  private listenForWakes(base: RedisClient): void {
    if (!this.wakes.started) this.wakes.start(this.subscriber ?? duplicateConnection(base));
  }

  /** Looks now (after a reconnect, say). */
  nudge(): void {
    this.loop.arm(0);
  }

  private readonly scheduled = (queue: string, dueIn: number): void => {
    if (this.queues.some((known) => known.name === queue)) this.loop.arm(dueIn);
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
