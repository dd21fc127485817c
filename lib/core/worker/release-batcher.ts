import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient } from '../redis/client.js';
import { DEFAULT_ERROR_BACKOFF } from '../defaults.js';
import { type DelayedLogger, errorMessage } from '../logger.js';
import type { ConnectionLoss } from '../redis/connection-loss.js';
import type { Slot, SlotPool } from './slot-pool.js';
import type { WorkerQueue } from './worker-queue.js';

/**
 * Releases of finished tasks, batched: every slot finished in one turn of the event loop is
 * released by one HDEL per queue. A slot is reused only after its HDEL is confirmed; a failed
 * HDEL is sent again (it is idempotent) until it gets through or the worker closes.
 */
export class ReleaseBatcher {
  private readonly pending = new Map<WorkerQueue, Slot[]>();
  private flushScheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly redis: RedisClient,
    private readonly loss: ConnectionLoss,
    private readonly pool: SlotPool,
    private readonly logger: DelayedLogger,
    /** Whether the worker closed: releases still failing then are left to the sweeper. */
    private readonly closed: () => boolean,
  ) {}

  schedule(queue: WorkerQueue, slot: Slot): void {
    slot.state = 'releasing';
    const batch = this.pending.get(queue);
    if (batch) batch.push(slot);
    else this.pending.set(queue, [slot]);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Sends every pending release now. */
  readonly flush = (): void => {
    this.flushScheduled = false;
    for (const [queue, slots] of this.pending) this.release(queue, slots);
    this.pending.clear();
  };

  /** Settles once every release sent so far is confirmed (or given up on at close). */
  async settled(): Promise<void> {
    await Promise.all(this.inFlight);
  }

  private release(queue: WorkerQueue, slots: Slot[]): void {
    const ids = slots.map((slot) => slot.key);
    const done = (async () => {
      for (;;) {
        try {
          await this.loss.guard(queue.release(ids));
          break;
        } catch (error) {
          if (this.closed()) return;
          // Disconnected: the loss is logged once elsewhere; wait for the reconnect quietly.
          if (this.redis.status === 'ready')
            this.logger.warn(`Release failed: ${errorMessage(error)}; trying again`);
          await sleep(DEFAULT_ERROR_BACKOFF / 10);
        }
      }
      for (const slot of slots) this.pool.free(slot);
    })();
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }
}
