import type { Redis } from 'ioredis';
import { DataDecodeError, DataPutError, InvalidOptionsError } from '../errors.js';
import { MAX_DURATION } from '../limits.js';
import {
  DEAD_LETTER_OPTIONS,
  describeValue,
  QUEUE_OPTIONS,
  resolveSettings,
  throwOnProblems,
  type DeadLetterSettings,
} from '../options.js';
import { encodeMsgpack } from '../protocol/msgpack.js';
import { whenReady, withinTimeout } from '../redis/connection.js';
import { scripts } from '../redis/lua-scripts.js';
import { DataBatch } from './data-batch.js';
import { DataDeadLetters } from './data-dead-letters.js';
import { type DataQueueKeys, dataQueueKeys } from './data-keys.js';
import { MAX_ATTEMPTS, newItemId, newRecord, recordItem } from './data-record.js';
import { DataWakeListener } from './data-wake-listener.js';

/** The most items one get, peek or script call takes. */
export const MAX_ITEMS_PER_GET = 1_000;
/** Items per put script call: a bigger put is split into calls of this many (or fewer). */
export const ITEMS_PER_PUT_CALL = 1_000;
/** Bytes of records per put script call, at most (a single bigger item travels alone). */
export const BYTES_PER_PUT_CALL = 4 * 1024 * 1024;
/** Ids per refresh or done script call. */
const IDS_PER_CALL = 1_000;
/** While a get waits, it looks again at least this often (a wake can be missed if Redis refuses Pub/Sub). */
const WAIT_POLL = 1_000;

export interface DataQueueOptions {
  /**
   * The visibility timeout of a `get` that names none, in ms: a positive one leases the items
   * taken (they come back unless marked done in time); 0 takes them for good (0/1 delivery).
   * Default 0.
   */
  readonly visibilityTimeout?: number;
  /**
   * How many leases an item put into this queue gets (see `put`): when the last one ends
   * without `done`, the item is given up. Default 1.
   */
  readonly attempts?: number;
  /**
   * Where items that ran out of attempts go: `false` drops them. Default: on, bounded to the
   * latest 10,000 dead letters per data queue.
   */
  readonly deadLetter?: false | Partial<DeadLetterSettings>;
  /** How long a call waits for an unreachable Redis before it fails (ms). Default 5,000. */
  readonly redisTimeout?: number;
}

export interface PutOptions {
  /** Ms before the items become available; 0 (the default) means now. */
  readonly delay?: number;
  /** Leases each item gets before it is given up. Default: the queue's `attempts`. */
  readonly attempts?: number;
  /** Whether these items become dead letters once out of attempts. Default: the queue's. */
  readonly deadLetter?: boolean;
}

export interface GetOptions {
  /** Overrides the queue's visibility timeout for this get (ms, 0: take for good). */
  readonly visibilityTimeout?: number;
  /**
   * How long to wait for at least one item when none is available, in ms. Default 0: answer
   * at once, possibly with an empty batch.
   */
  readonly wait?: number;
}

export interface RefreshOptions {
  /** The lease's new length from now, in ms. Default: the queue's visibility timeout. */
  readonly visibilityTimeout?: number;
}

/** A data queue's items, on Redis' clock. */
export interface DataCounts {
  /** Items a get could take now (counting delayed items that are due and leases that ended). */
  readonly available: number;
  /** Items held under a lease that has not ended. */
  readonly invisible: number;
  /** Items put with a delay that is not over yet. */
  readonly delayed: number;
  /** Dead letters kept. */
  readonly dead: number;
}

/**
 * A data queue (rpqueue's "Data"): producers put items, consumers get 1–1,000 at a time and
 * either take them for good (0/1 delivery) or lease them for a visibility timeout, refresh
 * the lease while they work, and mark them done; an item whose lease ends comes back, up to
 * its attempts, then becomes a dead letter (or is dropped). Every lease start, end, refresh
 * and return is decided by a script on Redis' clock, so two consumers never hold one item,
 * and a consumer that dies holding items loses none of them.
 *
 * Items are any MessagePack value: JSON-like values, Buffers/Uint8Arrays (as bin), bigints
 * beyond 2^53 (as int64/uint64; safe integers come back as numbers).
 */
export class DataQueue<T = unknown> {
  readonly keys: DataQueueKeys;
  readonly deadLetters: DataDeadLetters<T>;
  readonly visibilityTimeout: number;
  readonly attempts: number;
  /** Dead letters kept, or 0 when they are off. */
  readonly deadLetterMaxLength: number;
  readonly redisTimeout: number;

  constructor(
    readonly redis: Redis,
    readonly name: string,
    options: DataQueueOptions = {},
  ) {
    this.keys = dataQueueKeys(name);
    const settings = resolveDataQueueOptions(name, options);
    this.redisTimeout = settings.redisTimeout;
    this.visibilityTimeout = settings.visibilityTimeout;
    this.attempts = settings.attempts;
    this.deadLetterMaxLength = settings.deadLetterMaxLength;
    this.deadLetters = new DataDeadLetters<T>(this);
  }

  /**
   * Puts items at the tail of the queue (or, with `delay`, makes them available then); each
   * gets a new id, returned in the order of `items`. Up to 1,000 items (and 4 MiB) go in one
   * atomic script call; a bigger put is split into such calls, sent together. If one of
   * them fails, a DataPutError names the ids that were put.
   */
  async put(items: readonly T[], options: PutOptions = {}): Promise<string[]> {
    if (!Array.isArray(items)) {
      throw new InvalidOptionsError(`put() takes an array of items, got ${describeValue(items)}`);
    }
    const {
      delay = 0,
      attempts = this.attempts,
      deadLetter = this.deadLetterMaxLength > 0,
    } = options;
    const problems: string[] = [];
    pushProblem(problems, 'delay', timeoutProblem(delay));
    pushProblem(problems, 'attempts', attemptsProblem(attempts));
    if (typeof deadLetter !== 'boolean') {
      problems.push(`deadLetter must be a boolean, got ${describeValue(deadLetter)}`);
    }
    throwOnProblems(`put() options on data queue "${this.name}"`, problems);
    if (items.length === 0) return [];

    const ids: string[] = new Array<string>(items.length);
    const calls: { first: number; args: (string | Buffer)[] }[] = [];
    const head = (): (string | Buffer)[] => [String(delay), this.keys.wake];
    let args = head();
    let first = 0;
    let bytes = 0;
    for (let i = 0; i < items.length; i++) {
      let record: Buffer;
      try {
        record = newRecord(encodeMsgpack(items[i]), attempts, deadLetter);
      } catch (error) {
        throw new InvalidOptionsError(
          `Item ${i} of a put on data queue "${this.name}" is not a MessagePack value: ${(error as Error).message}`,
          { cause: error },
        );
      }
      if (
        args.length > 2 &&
        (i - first === ITEMS_PER_PUT_CALL || bytes + record.length > BYTES_PER_PUT_CALL)
      ) {
        calls.push({ first, args });
        args = head();
        first = i;
        bytes = 0;
      }
      const id = newItemId();
      ids[i] = id;
      args.push(id, record);
      bytes += record.length;
    }
    calls.push({ first, args });

    const results = await Promise.allSettled(
      calls.map((call) =>
        this.command(
          () => scripts.dataPut.run(this.redis, this.keys, call.args),
          `a put of ${(call.args.length - 2) / 2} item(s) on data queue "${this.name}"`,
        ),
      ),
    );
    const failed = results.findIndex((result) => result.status === 'rejected');
    if (failed >= 0) {
      const put: string[] = [];
      results.forEach((result, index) => {
        if (result.status === 'fulfilled') {
          const from = calls[index]!.first;
          put.push(...ids.slice(from, from + (calls[index]!.args.length - 2) / 2));
        }
      });
      const cause = (results[failed] as PromiseRejectedResult).reason as Error;
      throw new DataPutError(
        `A put of ${items.length} item(s) on data queue "${this.name}" failed: ${put.length} were put (their ids are in error.put), ${items.length - put.length} were not: ${cause.message}`,
        put,
        { cause },
      );
    }
    return ids;
  }

  /**
   * Takes up to `count` (1–1,000) items from the head of the queue. With a visibility timeout
   * (the option, else the queue's) the items are leased until it ends: mark them `done` in
   * time, or `refresh` the lease, or they come back (if they have attempts left). Without one
   * they are removed as they are taken. With `wait`, waits up to that long for at least one.
   */
  async get(count = 1, options: GetOptions = {}): Promise<DataBatch<T>> {
    const { visibilityTimeout = this.visibilityTimeout, wait = 0 } = options;
    const problems: string[] = [];
    pushProblem(problems, 'count', countProblem(count));
    pushProblem(problems, 'visibilityTimeout', timeoutProblem(visibilityTimeout));
    pushProblem(problems, 'wait', timeoutProblem(wait));
    throwOnProblems(`get() on data queue "${this.name}"`, problems);
    const first = await this.take(count, visibilityTimeout);
    if (first.batch.size > 0 || wait === 0) return first.batch;
    return this.waitFor(count, visibilityTimeout, wait, first.nextDue);
  }

  /** Reads up to `count` (1–1,000) items from the head of the queue without taking them. */
  async peek(count = 1): Promise<Map<string, T>> {
    const problems: string[] = [];
    pushProblem(problems, 'count', countProblem(count));
    throwOnProblems(`peek() on data queue "${this.name}"`, problems);
    const { batch } = await this.take(count, -1);
    return new Map(batch);
  }

  /**
   * Extends the lease of held items to end `visibilityTimeout` ms from now (on Redis' clock)
   * and returns the ids refreshed: only items still held, whose lease has not ended. Given
   * the batch a `get` returned, only the items still held under that lease are refreshed,
   * the batch's `leaseEnd` moves, and the items no longer held are deleted from the batch.
   * Given bare ids, any lease not ended is extended (rpqueue's behaviour, fixed).
   */
  async refresh(
    ids: DataBatch<T> | ReadonlyMap<string, unknown> | Iterable<string>,
    options: RefreshOptions = {},
  ): Promise<string[]> {
    const { visibilityTimeout = this.visibilityTimeout } = options;
    const problem = timeoutProblem(visibilityTimeout);
    if (problem !== undefined || visibilityTimeout === 0) {
      throw new InvalidOptionsError(
        `refresh() on data queue "${this.name}": visibilityTimeout must be ${problem ?? 'positive (0 would end the lease)'}`,
      );
    }
    const batch = ids instanceof DataBatch ? ids : undefined;
    if (batch !== undefined && !batch.leased) return [];
    const list = idList(ids, 'refresh');
    const lease = batch === undefined ? '' : String(batch.leaseEnd);
    const refreshed: string[] = [];
    // The first call sets the new lease end on Redis' clock; the next ones (ids beyond the
    // first 1,000) give their items that same end, so one batch keeps one lease.
    let leaseEnd = '';
    for (let i = 0; i < list.length; i += IDS_PER_CALL) {
      const chunk = list.slice(i, i + IDS_PER_CALL);
      const reply = (await this.command(
        () =>
          scripts.dataRefresh.run(this.redis, this.keys, [
            String(visibilityTimeout),
            lease,
            leaseEnd,
            ...chunk,
          ]),
        `a refresh of ${chunk.length} item(s) on data queue "${this.name}"`,
      )) as [number, ...Buffer[]];
      leaseEnd = String(reply[0]);
      for (let j = 1; j < reply.length; j++) refreshed.push(String(reply[j]));
    }
    if (batch !== undefined) {
      batch.leaseEnd = Number(leaseEnd);
      if (refreshed.length < batch.size) {
        const held = new Set(refreshed);
        for (const id of [...batch.keys()]) if (!held.has(id)) batch.delete(id);
      }
    }
    return refreshed;
  }

  /**
   * Marks held items done: they leave the queue for good. Returns how many were removed.
   * Given the batch a `get` returned, only the items still held under that lease are
   * removed (an item taken by another consumer after this lease ended stays with it); given
   * bare ids, any held item is. Items taken for good (no visibility timeout) need no `done`.
   */
  async done(ids: DataBatch<T> | ReadonlyMap<string, unknown> | Iterable<string>): Promise<number> {
    const batch = ids instanceof DataBatch ? ids : undefined;
    if (batch !== undefined && !batch.leased) return 0;
    const list = idList(ids, 'done');
    const lease = batch === undefined ? '' : String(batch.leaseEnd);
    let removed = 0;
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < list.length; i += IDS_PER_CALL) {
      const chunk = list.slice(i, i + IDS_PER_CALL);
      calls.push(
        this.command(
          () => scripts.dataDone.run(this.redis, this.keys, [lease, ...chunk]),
          `a done of ${chunk.length} item(s) on data queue "${this.name}"`,
        ).then((count) => (removed += Number(count))),
      );
    }
    await Promise.all(calls);
    return removed;
  }

  /** Counts on Redis' clock: available, held (invisible), delayed and dead. */
  async counts(): Promise<DataCounts> {
    const [available, invisible, delayed, dead] = (await this.command(
      () => scripts.dataCounts.run(this.redis, this.keys, []),
      `a count of data queue "${this.name}"`,
    )) as number[];
    return { available: available!, invisible: invisible!, delayed: delayed!, dead: dead! };
  }

  /**
   * Settles what is due without taking anything: delayed items that are due become
   * available; items whose lease ended come back or are given up (at most 1,000 of each per
   * call; a get does this too, so a queue with consumers needs no sweeping).
   */
  async sweep(): Promise<void> {
    await this.command(
      () =>
        scripts.dataGet.run(this.redis, this.keys, ['0', '0', String(this.deadLetterMaxLength)]),
      `a sweep of data queue "${this.name}"`,
    );
  }

  /** Deletes every item of the queue, held or not (not its dead letters: see `deadLetters.purge()`). */
  async deleteAll(): Promise<void> {
    const { available, items, leases, delayed } = this.keys;
    await this.command(
      () => this.redis.del(available, items, leases, delayed),
      `a delete of data queue "${this.name}"`,
    );
  }

  /** Runs a command once Redis is ready, failing with a RedisUnavailableError after `redisTimeout`. */
  async command<R>(send: () => Promise<R>, what: string): Promise<R> {
    if (this.redis.status !== 'ready') await whenReady(this.redis, this.redisTimeout);
    return withinTimeout(this.redis, send(), this.redisTimeout, what);
  }

  private async take(
    count: number,
    timeout: number,
  ): Promise<{ batch: DataBatch<T>; nextDue: number }> {
    const reply = (await this.command(
      () =>
        scripts.dataGet.run(this.redis, this.keys, [
          String(count),
          String(timeout),
          String(this.deadLetterMaxLength),
        ]),
      `a get of ${count} item(s) on data queue "${this.name}"`,
    )) as Buffer[];
    const batch = new DataBatch<T>(timeout > 0 ? Number(reply[0]) : 0);
    let unreadable: Map<string, Buffer> | undefined;
    for (let i = 2; i < reply.length; i += 2) {
      const id = String(reply[i]);
      try {
        batch.set(id, recordItem(reply[i + 1]!) as T);
      } catch {
        (unreadable ??= new Map()).set(id, reply[i + 1]!);
      }
    }
    if (unreadable !== undefined) {
      // Nothing is dropped: the readable items and the unreadable records travel in the error.
      throw new DataDecodeError(
        `Data queue "${this.name}": ${unreadable.size} item(s) cannot be read as MessagePack (${[...unreadable.keys()].join(', ')}); ${timeout > 0 ? 'they stay leased and come back when the lease ends' : timeout === 0 ? 'they were taken: their bytes are in error.records' : 'they were only peeked'}; the readable ones are in error.batch`,
        batch,
        unreadable,
      );
    }
    return { batch, nextDue: Number(reply[1]) };
  }

  private async waitFor(
    count: number,
    timeout: number,
    wait: number,
    nextDue: number,
  ): Promise<DataBatch<T>> {
    const end = Date.now() + wait;
    const hold = DataWakeListener.of(this.redis).hold(this.keys.wake);
    try {
      await hold.ready;
      for (;;) {
        // Look again now that the subscription is confirmed: a put before it woke nobody.
        const seen = hold.seen;
        const { batch, nextDue: due } = await this.take(count, timeout);
        nextDue = due;
        const left = end - Date.now();
        if (batch.size > 0 || left <= 0) return batch;
        const sleep = Math.min(left, WAIT_POLL, nextDue >= 0 ? nextDue + 1 : WAIT_POLL);
        await hold.next(seen, sleep);
      }
    } finally {
      hold.release();
    }
  }
}

/** A data queue's options with their defaults; throws one error naming every problem. */
export function resolveDataQueueOptions(
  name: string,
  options: DataQueueOptions,
): {
  readonly visibilityTimeout: number;
  readonly attempts: number;
  readonly deadLetterMaxLength: number;
  readonly redisTimeout: number;
} {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionsError(
      `Invalid options of data queue "${name}": expected an object, got ${describeValue(options)}`,
    );
  }
  const problems: string[] = [];
  for (const key of Object.keys(options)) {
    if (!DATA_QUEUE_OPTION_NAMES.includes(key)) {
      problems.push(`unknown option "${key}" (known: ${DATA_QUEUE_OPTION_NAMES.join(', ')})`);
    }
  }
  const { redisTimeout } = resolveSettings(QUEUE_OPTIONS, options, '', problems);
  const { visibilityTimeout = 0, attempts = 1, deadLetter } = options;
  pushProblem(problems, 'visibilityTimeout', timeoutProblem(visibilityTimeout));
  pushProblem(problems, 'attempts', attemptsProblem(attempts));
  const deadLetterMaxLength =
    deadLetter === false
      ? 0
      : resolveSettings(DEAD_LETTER_OPTIONS, deadLetter ?? {}, 'deadLetter.', problems).maxLength;
  throwOnProblems(`options of data queue "${name}"`, problems);
  return { visibilityTimeout, attempts, deadLetterMaxLength, redisTimeout };
}

const DATA_QUEUE_OPTION_NAMES = ['visibilityTimeout', 'attempts', 'deadLetter', 'redisTimeout'];

export function pushProblem(problems: string[], name: string, problem: string | undefined): void {
  if (problem !== undefined) problems.push(`${name} must be ${problem}`);
}

export function timeoutProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_DURATION) {
    return `a whole number of milliseconds from 0 to ${MAX_DURATION}, got ${describeValue(value)}`;
  }
  return undefined;
}

export function attemptsProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_ATTEMPTS) {
    return `an integer from 1 to ${MAX_ATTEMPTS}, got ${describeValue(value)}`;
  }
  return undefined;
}

export function countProblem(value: unknown): string | undefined {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > MAX_ITEMS_PER_GET
  ) {
    return `an integer from 1 to ${MAX_ITEMS_PER_GET}, got ${describeValue(value)}`;
  }
  return undefined;
}

export function idList(
  ids: ReadonlyMap<string, unknown> | Iterable<string>,
  what: string,
): string[] {
  if (
    ids === null ||
    typeof ids !== 'object' ||
    typeof (ids as Iterable<string>)[Symbol.iterator] !== 'function'
  ) {
    throw new InvalidOptionsError(
      `${what}() takes a batch from get() or an iterable of item ids, got ${describeValue(ids)}`,
    );
  }
  const list: unknown[] =
    ids instanceof Map ? [...(ids as Map<string, unknown>).keys()] : [...(ids as Iterable<string>)];
  for (const id of list) {
    if (typeof id !== 'string' || id.length === 0) {
      throw new InvalidOptionsError(
        `${what}() takes item ids (non-empty strings), got ${describeValue(id)}`,
      );
    }
  }
  return list as string[];
}
