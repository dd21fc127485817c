import type { RedisClient } from '../core/index.js';
import {
  DataBatch,
  type DataCounts,
  type DataGetOptions,
  type DataPutOptions,
  DataQueue,
  type DataQueueOptions,
  type DataRefreshOptions,
  DelayedError,
  dataIdList,
  decodeMsgpack,
  encodeMsgpack,
  newDataItemId,
} from '../core/index.js';
import { detached } from './detached.js';
import { InlineDataDeadLetters } from './inline-data-dead-letters.js';
import { InlineDataStore } from './inline-data-store.js';

/** While a get waits, it looks again at least this often, as the real one does. */
const WAIT_POLL = 1_000;

/**
 * The DataQueue that DelayedTestingModule provides, in memory: the same class, calls,
 * checks, errors and answers as on Redis (the data_*.lua scripts are the reference; the
 * clock is `Date.now()`, and a waiting get uses real timers and wakes on a put). Items are
 * copied through MessagePack on put and on get, so a test sees exactly what Redis would
 * give back: bigints beyond 2^53, bytes as Buffers, never an object the producer holds.
 *
 * `keys` are the names the queue would use on Redis (kept, so code that logs them works);
 * `redis` and `command` have no Redis behind them and throw if used.
 *
 * ```ts
 * const clicks = new InlineDataQueue<Click>('clicks', { visibilityTimeout: 30_000 });
 * ```
 */
export class InlineDataQueue<T = unknown> extends DataQueue<T> {
  override readonly deadLetters: InlineDataDeadLetters<T>;
  readonly #store = new InlineDataStore();

  constructor(name: string, options: DataQueueOptions = {}) {
    super(detached<RedisClient>(`DataQueue "${name}"`, {}), name, options);
    this.deadLetters = new InlineDataDeadLetters<T>(this, this.#store);
  }

  override async put(items: readonly T[], options: DataPutOptions = {}): Promise<string[]> {
    const { delay, attempts, deadLetter } = this.putSettings(items, options);
    if (items.length === 0) return [];
    // Every item is encoded before any is stored: one that MessagePack refuses puts none.
    const entries = items.map((item, i): [string, Buffer] => {
      try {
        return [newDataItemId(), encodeMsgpack(item)];
      } catch (error) {
        throw this.itemError(i, error);
      }
    });
    this.#store.put(entries, attempts, deadLetter, delay);
    return entries.map(([id]) => id);
  }

  override async get(count = 1, options: DataGetOptions = {}): Promise<DataBatch<T>> {
    const { visibilityTimeout, wait, done } = this.getSettings(count, options);
    if (done !== undefined) {
      // As the real get: marks those done first, under the batch's lease if given one.
      const batch = done instanceof DataBatch ? done : undefined;
      if (batch === undefined || batch.leased) {
        this.#store.done(dataIdList(done, 'get({ done })'), batch?.leaseEnd);
      }
    }
    const first = this.#take(count, visibilityTimeout);
    if (first.batch.size > 0 || wait === 0) return first.batch;
    return this.#waitFor(count, visibilityTimeout, wait);
  }

  override async peek(count = 1): Promise<Map<string, T>> {
    this.peekCount(count);
    return new Map(this.#take(count, -1).batch);
  }

  override async refresh(
    ids: DataBatch<T> | ReadonlyMap<string, unknown> | Iterable<string>,
    options: DataRefreshOptions = {},
  ): Promise<string[]> {
    const visibilityTimeout = this.refreshTimeout(options);
    const batch = ids instanceof DataBatch ? ids : undefined;
    if (batch !== undefined && !batch.leased) return [];
    const { leaseEnd, refreshed } = this.#store.refresh(
      dataIdList(ids, 'refresh'),
      visibilityTimeout,
      batch?.leaseEnd,
    );
    if (batch !== undefined) {
      batch.leaseEnd = leaseEnd;
      if (refreshed.length < batch.size) {
        const held = new Set(refreshed);
        for (const id of [...batch.keys()]) if (!held.has(id)) batch.delete(id);
      }
    }
    return refreshed;
  }

  override async done(
    ids: DataBatch<T> | ReadonlyMap<string, unknown> | Iterable<string>,
  ): Promise<number> {
    const batch = ids instanceof DataBatch ? ids : undefined;
    if (batch !== undefined && !batch.leased) return 0;
    return this.#store.done(dataIdList(ids, 'done'), batch?.leaseEnd);
  }

  override async counts(): Promise<DataCounts> {
    return this.#store.counts();
  }

  override async sweep(): Promise<void> {
    // As the real sweep: calls of 1,000 of each kind until one settles fewer.
    for (let call = 0; call < 100; call++) {
      if (this.#store.take(0, 0, this.deadLetterMaxLength).settled < 1_000) return;
    }
  }

  /** No Redis here: there is no connection. */
  override get connection(): RedisClient {
    return this.redis;
  }

  override async deleteAll(): Promise<void> {
    this.#store.deleteItems();
  }

  /** No Redis here: nothing can be sent. */
  override command<R>(_send: () => Promise<R>, what: string): Promise<R> {
    return Promise.reject(
      new DelayedError(
        `DataQueue "${this.name}" has no Redis behind it under DelayedTestingModule (it was asked for ${what}); this call needs the real DelayedModule`,
      ),
    );
  }

  /** A take on the store, its items decoded from copies of their bytes into a batch. */
  #take(count: number, timeout: number): { batch: DataBatch<T>; nextDue: number } {
    const { leaseEnd, nextDue, items } = this.#store.take(count, timeout, this.deadLetterMaxLength);
    const batch = new DataBatch<T>(timeout > 0 ? leaseEnd : 0);
    // A copy: MessagePack hands bytes back as views into what it decodes.
    for (const [id, bytes] of items) batch.set(id, decodeMsgpack(Buffer.from(bytes)) as T);
    return { batch, nextDue };
  }

  /** As the real get waits: look, then sleep until a put wakes it, the next due, or the end. */
  async #waitFor(count: number, timeout: number, wait: number): Promise<DataBatch<T>> {
    const end = Date.now() + wait;
    let wake = (): void => undefined;
    const unsubscribe = this.#store.onWake(() => wake());
    try {
      for (;;) {
        const { batch, nextDue } = this.#take(count, timeout);
        const left = end - Date.now();
        if (batch.size > 0 || left <= 0) return batch;
        const sleep = Math.min(left, WAIT_POLL, nextDue >= 0 ? nextDue + 1 : WAIT_POLL);
        // Nothing runs between the take and this wait, so no put can slip in unseen.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, sleep);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      unsubscribe();
    }
  }
}
