import type { RedisClient } from '../redis/client.js';
import { DEFAULT_ERROR_BACKOFF } from '../defaults.js';
import { type DelayedLogger, errorMessage } from '../logger.js';
import type { ConnectionLoss } from '../redis/connection-loss.js';
import { BlpopInterrupter } from './blpop-interrupter.js';
import type { Slot, SlotPool } from './slot-pool.js';
import type { WorkerQueue } from './worker-queue.js';

/** What the fetch loop needs from its worker. */
export interface FetcherDeps {
  readonly queues: readonly WorkerQueue[];
  readonly pool: SlotPool;
  readonly logger: DelayedLogger;
  /** The command connection (dequeue scripts) and the blocking one (BLPOP), with their loss guards. */
  readonly commands: RedisClient;
  readonly commandsLoss: ConnectionLoss;
  readonly blocking: RedisClient;
  readonly blockingLoss: ConnectionLoss;
  /** Longest single BLPOP, in ms. */
  readonly dequeueTimeout: number;
  /** Whether the worker still fetches. */
  readonly fetching: () => boolean;
  /** Whether a task taken now may still be started (false once the worker goes offline). */
  readonly mayStart: () => boolean;
  /** Slots free for new tasks right now. */
  readonly freeCount: () => number;
  readonly start: (queue: WorkerQueue, slot: Slot, bytes: Buffer) => void;
}

/**
 * The fetch loop: while the queues had work last time, takes tasks without blocking, several
 * per round trip; once they ran dry, blocks on one BLPOP over every queue's notifications
 * (the first queue listed wins when several have work) until one arrives.
 */
export class Fetcher {
  private readonly queueByNotificationKey = new Map<string, WorkerQueue>();
  private readonly notificationKeys: string[];
  private readonly interrupter: BlpopInterrupter;
  /**
   * The queue of a notification popped by BLPOP whose dequeue never reached Redis (the command
   * connection was down): the next round dequeues with it instead of losing it.
   */
  private heldNotification: WorkerQueue | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly deps: FetcherDeps) {
    for (const queue of deps.queues)
      this.queueByNotificationKey.set(queue.keys.notifications, queue);
    this.notificationKeys = deps.queues.map((queue) => queue.keys.notifications);
    this.interrupter = new BlpopInterrupter(deps.blocking, deps.commands);
  }

  /** Wakes the loop when it waits for a free slot, a reconnect or the end of a pause. */
  readonly nudge = (): void => {
    this.wake?.();
  };

  /** Ends a wait of the loop now: a pause, a wait for a slot, and a BLPOP in progress. */
  interrupt(): void {
    this.nudge();
    this.interrupter.interrupt();
  }

  async loop(): Promise<void> {
    const { deps } = this;
    let drained = false;
    while (deps.fetching()) {
      if (!this.connected()) {
        // Commands would fail at once (no offline queue): wait for the reconnect.
        await this.pause(DEFAULT_ERROR_BACKOFF / 10);
        continue;
      }
      const free = deps.pool.take(deps.freeCount());
      if (free.length === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      // Queues their rate limit or a pause holds back sit out until they may go again.
      let open = deps.queues;
      let blockFor = deps.dequeueTimeout;
      if (this.anyHeldBack()) {
        const now = performance.now();
        let reopens = Infinity;
        open = deps.queues.filter((queue) => {
          const until = Math.max(queue.limitedUntil, queue.pausedUntil);
          if (until === 0) return true;
          if (until <= now) {
            queue.limitedUntil = 0;
            queue.pausedUntil = 0;
            drained = false; // its tasks are waiting: take them without blocking
            return true;
          }
          reopens = Math.min(reopens, until);
          return false;
        });
        // A held notification is used first: the script puts it back if the window is full
        // or the queue is paused.
        if (open.length === 0 && this.heldNotification === undefined) {
          deps.pool.giveBack(free);
          await this.pause(reopens - now);
          continue;
        }
        blockFor = Math.max(10, Math.min(blockFor, reopens - now));
      }
      try {
        await deps.pool.confirm();
        let taken = 0;
        if (this.heldNotification !== undefined) {
          const queue = this.heldNotification;
          this.heldNotification = undefined;
          taken = await this.dequeueInto(queue, 1, free, 0);
          drained = taken < free.length;
        } else if (!drained) {
          for (const queue of open) {
            taken += await this.dequeueInto(queue, 0, free, taken);
            if (taken === free.length) break;
          }
          drained = taken < free.length;
        } else {
          const keys =
            open === deps.queues
              ? this.notificationKeys
              : open.map((queue) => queue.keys.notifications);
          await this.interrupter.beforeBlpop(keys[0]!);
          const popped = await deps.blockingLoss.guard(
            deps.blocking.blpopBuffer(...keys, blockFor / 1000),
          );
          if (popped) {
            const queue = this.queueByNotificationKey.get(popped[0].toString())!;
            taken = await this.dequeueInto(queue, 1, free, 0);
            drained = taken < free.length;
          }
        }
        deps.pool.giveBack(free.slice(taken));
      } catch (error) {
        // Slots an earlier queue filled before the error are running: give back the others.
        deps.pool.giveBack(free.filter((slot) => slot.state === 'fetching'));
        if (!deps.fetching()) break;
        // A lost connection is logged once, by the worker; the loop waits above.
        if (!this.connected()) continue;
        deps.logger.error(`Fetching tasks failed: ${errorMessage(error)}; retrying`);
        await this.pause(DEFAULT_ERROR_BACKOFF);
      }
    }
  }

  /** Whether a rate limit or a pause holds some queue back (the common answer is no, and cheap). */
  private anyHeldBack(): boolean {
    for (const queue of this.deps.queues) {
      if (queue.limitedUntil !== 0 || queue.pausedUntil !== 0) return true;
    }
    return false;
  }

  /**
   * A queue was resumed (a message on its wake channel): if the loop sits its pause out, it
   * looks again now, ending a BLPOP over the other queues too.
   */
  resumed(queue: WorkerQueue): void {
    if (queue.resumed()) this.interrupt();
  }

  private connected(): boolean {
    return this.deps.commands.status === 'ready' && this.deps.blocking.status === 'ready';
  }

  /** Dequeues into `free[from..]`, starts the tasks, and returns how many it took. */
  private async dequeueInto(
    queue: WorkerQueue,
    held: 0 | 1,
    free: Slot[],
    from: number,
  ): Promise<number> {
    const slots = free.slice(from);
    let tasks: Buffer[];
    try {
      tasks = await this.deps.commandsLoss.guard(
        queue.dequeue(
          held,
          slots.map((slot) => slot.key),
        ),
      );
    } catch (error) {
      if (neverSent(error)) {
        // Nothing reached Redis: the ids are as good as before, and a popped notification
        // is still ours to use.
        if (held === 1) this.heldNotification = queue;
        throw error;
      }
      // The script may have run and recorded tasks under these ids without us hearing of
      // it. Never reuse the ids: left unrefreshed, their liveness keys expire and a sweeper
      // puts whatever they hold back into the queue.
      this.deps.pool.retire(slots);
      throw error;
    }
    if (!this.deps.mayStart()) {
      // The reply came after the drain's deadline: the worker is going offline and will not
      // see these tasks through. They stay in processing, their slots stay "fetching" (never
      // cleared), and once the ids are gone a sweeper puts them back.
      return tasks.length;
    }
    for (let i = 0; i < tasks.length; i++) this.deps.start(queue, slots[i]!, tasks[i]!);
    return tasks.length;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/**
 * ioredis refused the command before writing it: the connection was down (no offline
 * queue), or the cluster client was not ready (no offline queue either).
 */
function neverSent(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.message.startsWith("Stream isn't writeable") ||
      error.message.startsWith("Cluster isn't ready"))
  );
}
