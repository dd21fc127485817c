import type { RedisClient } from '../redis/client.js';
import { newWorkerId } from '../protocol/worker-id.js';

/** One concurrent execution place. Its id is its worker id in the delayed protocol. */
export interface Slot {
  id: string;
  /** `id` as bytes, cached: ioredis writes Buffers without converting them. */
  key: Buffer;
  /**
   * idle: free, holds nothing. fetching: its id is in a dequeue whose reply has not come, so
   * a task may be recorded under it at any moment. running: its task runs. releasing: its
   * task finished and the HDEL that ends it is not confirmed yet; the slot is reused only
   * once it is, so a lost HDEL can never leave a finished task behind under an id that later
   * gets retired.
   */
  state: 'idle' | 'fetching' | 'running' | 'releasing';
}

/**
 * The worker's slots and their liveness keys.
 *
 * Up to twice `concurrency` ids: a slot whose release is not confirmed yet cannot take a
 * task, so a spare id lets the next dequeue go out at once instead of one round trip later.
 * An id whose outcome is unknown (a write that failed, a reply that never came) is never
 * used again: the slot takes a new id, the old key is no longer refreshed, and once it
 * expires a sweeper recovers whatever the old id holds.
 */
export class SlotPool {
  private readonly slots: Slot[] = [];
  private readonly idle: Slot[] = [];
  private readonly max: number;
  /** Liveness writes of new ids still unanswered (see confirm). */
  private readonly writing = new Set<Promise<void>>();
  /** Whether a liveness write of a new id failed since every key was last written. */
  private stale = false;

  constructor(
    /** The worker's command connection: liveness keys go over it, before any dequeue. */
    private readonly redis: RedisClient,
    concurrency: number,
    private readonly keepAliveTimeout: number,
    /** Called whenever a slot becomes free. */
    private readonly onFree: () => void,
    /** What every id starts with: the queues' hash tag on a cluster, else nothing. */
    private readonly idPrefix = '',
  ) {
    this.max = 2 * concurrency;
    for (let i = 0; i < concurrency; i++) {
      const slot = newSlot(idPrefix);
      this.slots.push(slot);
      this.idle.push(slot);
    }
  }

  /** Every id held right now (each is also a liveness key). */
  get ids(): string[] {
    return this.slots.map((slot) => slot.id);
  }

  /** Ids of slots that hold nothing worth keeping: idle ones, and those whose release is pending. */
  settledIds(): string[] {
    return this.slots
      .filter((slot) => slot.state === 'idle' || slot.state === 'releasing')
      .map((slot) => slot.id);
  }

  /** Claims every id's liveness key (`SET NX`), taking a new id for any already taken. */
  async claim(): Promise<void> {
    let unclaimed = [...this.slots];
    while (unclaimed.length > 0) {
      const pipeline = this.redis.pipeline();
      for (const slot of unclaimed) pipeline.set(slot.id, '1', 'PX', this.keepAliveTimeout, 'NX');
      const results = (await pipeline.exec()) ?? [];
      const taken: Slot[] = [];
      results.forEach(([error, reply], i) => {
        if (error) throw error;
        if (reply !== 'OK') taken.push(unclaimed[i]!);
      });
      for (const slot of taken) rename(slot, this.idPrefix);
      unclaimed = taken;
    }
  }

  /** Refreshes every liveness key in one pipeline; rejects if any write was refused. */
  refresh(): Promise<void> {
    return this.setAlive(this.slots);
  }

  /** Up to `count` idle slots, marked fetching, growing the pool while it is below its bound. */
  take(count: number): Slot[] {
    if (count <= 0) return [];
    const slots = this.idle.splice(0, count);
    while (slots.length < count && this.slots.length < this.max) {
      const slot = newSlot(this.idPrefix);
      this.slots.push(slot);
      slots.push(slot);
      // Sent before the dequeue that uses the id, on the same connection: the liveness key
      // exists before a processing entry names it. A failure is repaired by confirm().
      this.track(this.setAlive([slot]));
    }
    for (const slot of slots) slot.state = 'fetching';
    return slots;
  }

  /** Slots a dequeue did not fill, back to idle (no wake-up: the fetch loop asked for them). */
  giveBack(slots: readonly Slot[]): void {
    for (const slot of slots) slot.state = 'idle';
    this.idle.push(...slots);
  }

  /** A slot whose task ended and whose outcome is written: free for the next task. */
  free(slot: Slot): void {
    slot.state = 'idle';
    this.idle.push(slot);
    this.onFree();
  }

  /** New ids for slots whose old ids' outcome is unknown; the new keys are claimed at once. */
  retire(slots: readonly Slot[]): void {
    for (const slot of slots) rename(slot, this.idPrefix);
    // A failure here is repaired by confirm(), before the next dequeue.
    this.track(this.setAlive(slots));
  }

  /**
   * Called before each dequeue: waits for the liveness writes of new ids still in flight and,
   * if one failed, writes every key again (rejecting if that fails too). One server's client
   * reconnects after such a failure, and the worker writes every key then; a cluster client
   * stays ready through a failover, and without this the next dequeue would record tasks
   * under ids whose keys were never written, for a sweeper to take while they run.
   */
  async confirm(): Promise<void> {
    if (this.writing.size > 0) await Promise.all(this.writing);
    if (!this.stale) return;
    await this.refresh();
    this.stale = false;
  }

  private track(write: Promise<void>): void {
    const tracked = write.then(
      () => undefined,
      () => void (this.stale = true),
    );
    this.writing.add(tracked);
    void tracked.finally(() => this.writing.delete(tracked));
  }

  /**
   * `SET id 1 PX keepAliveTimeout` for each slot, in one pipeline. ioredis resolves a
   * pipeline whose commands failed, with the errors in its results: they are thrown here.
   */
  private async setAlive(slots: readonly Slot[]): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const slot of slots) pipeline.set(slot.id, '1', 'PX', this.keepAliveTimeout);
    for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
  }
}

function newSlot(idPrefix: string): Slot {
  const id = newWorkerId(idPrefix);
  return { id, key: Buffer.from(id), state: 'idle' };
}

function rename(slot: Slot, idPrefix: string): void {
  slot.id = newWorkerId(idPrefix);
  slot.key = Buffer.from(slot.id);
}
