import type { RedisClient } from '../redis/client.js';
import {
  DataDecodeError,
  DataPutError,
  InvalidOptionsError,
  RedisUnavailableError,
} from '../errors.js';
import { MAX_DURATION } from '../limits.js';
import {
  DEAD_LETTER_OPTIONS,
  describeValue,
  QUEUE_OPTIONS,
  resolveSettings,
  throwOnProblems,
  type DeadLetterSettings,
} from '../options.js';
import { decodeMsgpack } from '../protocol/msgpack.js';
import { isCluster, whenReady, withinTimeout } from '../redis/connection.js';
import { clusterNameProblem } from '../protocol/hash-tag.js';
import { scripts } from '../redis/lua-scripts.js';
import { DataBatch } from './data-batch.js';
import { dataConnection } from './data-connection.js';
import { DataDeadLetters } from './data-dead-letters.js';
import { type DataQueueKeys, dataQueueKeys } from './data-keys.js';
import { ITEM_ID_LENGTH, MAX_ATTEMPTS, newItemIds, RecordWriter } from './data-record.js';
import { DataWakeListener } from './data-wake-listener.js';

/** The most items one get, peek or script call takes. */
export const MAX_ITEMS_PER_GET = 1_000;
/** Items per put script call: a bigger put is split into calls of this many (or fewer). */
export const ITEMS_PER_PUT_CALL = 1_000;
/** Bytes of records a put script call reaches before it takes no more items (one big item may pass it). */
export const BYTES_PER_PUT_CALL = 4 * 1024 * 1024;
/** Items of one kind (due delayed, ended leases) a sweep's script call settles at most. */
const SWEEP_BOUND = 1_000;
/** Script calls one sweep makes at most (100,000 items of each kind). */
const MAX_SWEEP_CALLS = 100;
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

export interface GetOptions<T = unknown> {
  /** Overrides the queue's visibility timeout for this get (ms, 0: take for good). */
  readonly visibilityTimeout?: number;
  /**
   * How long to wait for at least one item when none is available, in ms. Default 0: answer
   * at once, possibly with an empty batch.
   */
  readonly wait?: number;
  /**
   * Items to mark done before taking (a batch from the previous get, or ids), in the same
   * script call: `batch = await queue.get(100, { done: batch })` in a consumer loop. Same
   * rules as `done()`; how many were done is not reported (call `done()` for that).
   */
  readonly done?: DataBatch<T> | ReadonlyMap<string, unknown> | Iterable<string>;
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
  /** The connection the queue's commands go on, once the first command found it. */
  private own: RedisClient | undefined;

  constructor(
    readonly redis: RedisClient,
    readonly name: string,
    options: DataQueueOptions = {},
  ) {
    this.keys = dataQueueKeys(name);
    if (isCluster(redis)) {
      const problem = clusterNameProblem('data queue', name);
      if (problem !== undefined) throw new InvalidOptionsError(problem);
    }
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
    const { delay, attempts, deadLetter } = this.putSettings(items, options);
    if (items.length === 0) return [];

    // One call per ITEMS_PER_PUT_CALL items or BYTES_PER_PUT_CALL bytes: ids end to end,
    // records end to end (two arguments, whatever the count).
    const calls: { first: number; count: number; ids: string; records: Buffer }[] = [];
    const allIds = newItemIds(items.length);
    const writer = RecordWriter.shared;
    let first = 0;
    const cut = (end: number): void => {
      const ids = allIds.slice(first * ITEM_ID_LENGTH, end * ITEM_ID_LENGTH);
      calls.push({ first, count: end - first, ids, records: writer.take() });
      first = end;
    };
    for (let i = 0; i < items.length; i++) {
      if (i > first && (i - first === ITEMS_PER_PUT_CALL || writer.size >= BYTES_PER_PUT_CALL)) {
        cut(i);
      }
      try {
        writer.add(items[i], attempts, deadLetter);
      } catch (error) {
        writer.reset(); // the shared writer must not carry this put's records into the next
        throw this.itemError(i, error);
      }
    }
    cut(items.length);

    const results = await Promise.allSettled(
      calls.map((call) =>
        this.command(
          () =>
            scripts.dataPut.run(this.connection, this.keys, [
              String(delay),
              this.keys.wake,
              call.ids,
              call.records,
            ]),
          `a put of ${call.count} item(s) on data queue "${this.name}"`,
        ),
      ),
    );
    const ids = new Array<string>(items.length);
    for (let i = 0; i < items.length; i++) {
      ids[i] = allIds.slice(i * ITEM_ID_LENGTH, (i + 1) * ITEM_ID_LENGTH);
    }
    const failed = results.findIndex((result) => result.status === 'rejected');
    if (failed >= 0) {
      const put: string[] = [];
      const unknown: string[] = [];
      results.forEach((result, index) => {
        const { first: from, count } = calls[index]!;
        const callIds = ids.slice(from, from + count);
        if (result.status === 'fulfilled') put.push(...callIds);
        else if (outcomeUnknown(result.reason)) unknown.push(...callIds);
      });
      const cause = (results[failed] as PromiseRejectedResult).reason as Error;
      const notPut = items.length - put.length - unknown.length;
      throw new DataPutError(
        `A put of ${items.length} item(s) on data queue "${this.name}" failed: ${put.length} were put (error.put)${unknown.length > 0 ? `, ${unknown.length} may or may not have been (error.unknown: no answer came)` : ''}, ${notPut} were not: ${cause.message}`,
        put,
        unknown,
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
   * With `done`, first marks those items done, as `done()` does, in the same call: a consumer
   * loop's done and next get cost one round trip.
   */
  async get(count = 1, options: GetOptions<T> = {}): Promise<DataBatch<T>> {
    const { visibilityTimeout, wait, done } = this.getSettings(count, options);
    let finished: { lease: string; ids: string[] } | undefined;
    if (done !== undefined) {
      const batch = done instanceof DataBatch ? done : undefined;
      const ids = batch !== undefined && !batch.leased ? [] : idList(done, 'get({ done })');
      finished = { lease: batch === undefined ? '' : String(batch.leaseEnd), ids };
      if (ids.length > IDS_PER_CALL) {
        // Too many for one call: done first on its own (from the list made: `done` may be
        // an iterator, read once).
        await this.doneIds(ids, finished.lease);
        finished = undefined;
      }
    }
    const first = await this.take(count, visibilityTimeout, finished);
    if (first.batch.size > 0 || wait === 0) return first.batch;
    return this.waitFor(count, visibilityTimeout, wait, first.nextDue);
  }

  /** Reads up to `count` (1–1,000) items from the head of the queue without taking them. */
  async peek(count = 1): Promise<Map<string, T>> {
    this.peekCount(count);
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
    const visibilityTimeout = this.refreshTimeout(options);
    const batch = ids instanceof DataBatch ? ids : undefined;
    if (batch !== undefined && !batch.leased) return [];
    const list = idList(ids, 'refresh');
    if (list.length === 0) return [];
    const lease = batch === undefined ? '' : String(batch.leaseEnd);
    const refreshed: string[] = [];
    // The first call sets the new lease end on Redis' clock; the next ones (ids beyond the
    // first 1,000) give their items that same end, so one batch keeps one lease.
    let leaseEnd = '';
    for (let i = 0; i < list.length; i += IDS_PER_CALL) {
      const chunk = list.slice(i, i + IDS_PER_CALL);
      const reply = (await this.command(
        () =>
          scripts.dataRefresh.run(this.connection, this.keys, [
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
    return this.doneIds(list, batch === undefined ? '' : String(batch.leaseEnd));
  }

  /** Marks done the items of `list` held under `lease` ('' for any), 1,000 per call. */
  private async doneIds(list: readonly string[], lease: string): Promise<number> {
    let removed = 0;
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < list.length; i += IDS_PER_CALL) {
      const chunk = list.slice(i, i + IDS_PER_CALL);
      calls.push(
        this.command(
          () => scripts.dataDone.run(this.connection, this.keys, [lease, ...chunk]),
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
      () => scripts.dataCounts.run(this.connection, this.keys, []),
      `a count of data queue "${this.name}"`,
    )) as number[];
    return { available: available!, invisible: invisible!, delayed: delayed!, dead: dead! };
  }

  /**
   * Settles what is due without taking anything: delayed items that are due become
   * available; items whose lease ended come back or are given up (1,000 of each per script
   * call, up to 100 calls; a get does this too, so a queue with consumers needs no sweeping).
   */
  async sweep(): Promise<void> {
    // Each call settles at most 1,000 of each kind; a backlog takes a few calls, each short.
    for (let call = 0; call < MAX_SWEEP_CALLS; call++) {
      const reply = (await this.command(
        () =>
          scripts.dataGet.run(this.connection, this.keys, [
            '0',
            '0',
            String(this.deadLetterMaxLength),
          ]),
        `a sweep of data queue "${this.name}"`,
      )) as unknown[];
      if (Number(reply[5]) < SWEEP_BOUND) return;
    }
  }

  /** Deletes every item of the queue, held or not (not its dead letters: see `deadLetters.purge()`). */
  async deleteAll(): Promise<void> {
    const { available, items, leases, delayed } = this.keys;
    await this.command(
      () => this.connection.del(available, items, leases, delayed),
      `a delete of data queue "${this.name}"`,
    );
  }

  /**
   * put()'s options with their defaults; throws one InvalidOptionsError naming every problem.
   * (Shared with the in-memory queue of the testing module, so both refuse alike.)
   */
  protected putSettings(
    items: unknown,
    options: PutOptions,
  ): { delay: number; attempts: number; deadLetter: boolean } {
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
    return { delay, attempts, deadLetter };
  }

  /** The error of an item MessagePack refuses, at `index` in a put. */
  protected itemError(index: number, error: unknown): InvalidOptionsError {
    return new InvalidOptionsError(
      `Item ${index} of a put on data queue "${this.name}" is not a MessagePack value: ${(error as Error).message}`,
      { cause: error },
    );
  }

  /** get()'s options with their defaults; throws one InvalidOptionsError naming every problem. */
  protected getSettings(
    count: number,
    options: GetOptions<T>,
  ): { visibilityTimeout: number; wait: number; done: GetOptions<T>['done'] } {
    const { visibilityTimeout = this.visibilityTimeout, wait = 0, done } = options;
    const problems: string[] = [];
    pushProblem(problems, 'count', countProblem(count));
    pushProblem(problems, 'visibilityTimeout', timeoutProblem(visibilityTimeout));
    pushProblem(problems, 'wait', timeoutProblem(wait));
    throwOnProblems(`get() on data queue "${this.name}"`, problems);
    return { visibilityTimeout, wait, done };
  }

  /** Throws unless `count` is one peek() takes. */
  protected peekCount(count: number): void {
    const problems: string[] = [];
    pushProblem(problems, 'count', countProblem(count));
    throwOnProblems(`peek() on data queue "${this.name}"`, problems);
  }

  /** refresh()'s visibility timeout, checked: a lease must last. */
  protected refreshTimeout(options: RefreshOptions): number {
    const { visibilityTimeout = this.visibilityTimeout } = options;
    const problem = timeoutProblem(visibilityTimeout);
    if (problem !== undefined || visibilityTimeout === 0) {
      throw new InvalidOptionsError(
        `refresh() on data queue "${this.name}": visibilityTimeout must be ${problem ?? 'positive (0 would end the lease)'}`,
      );
    }
    return visibilityTimeout;
  }

  /** Runs a command once Redis is ready, failing with a RedisUnavailableError after `redisTimeout`. */
  async command<R>(send: () => Promise<R>, what: string): Promise<R> {
    let own = this.own;
    if (own === undefined) {
      // Made once `redis` works: a duplicate of a client that never connects would linger.
      if (this.redis.status !== 'ready') await whenReady(this.redis, this.redisTimeout);
      own = this.own = dataConnection(this.redis);
    }
    if (own.status !== 'ready') await whenReady(own, this.redisTimeout);
    return withinTimeout(own, send(), this.redisTimeout, what);
  }

  /**
   * The connection the queue's commands go on: `redis` itself when it is set never to send a
   * command twice (ioredis' `autoResendUnfulfilledCommands: false`), else a duplicate of it
   * that is, shared by the data queues of `redis` and made at their first command (see
   * data-connection.ts). Until that first command, `redis`.
   */
  get connection(): RedisClient {
    return this.own ?? this.redis;
  }

  private async take(
    count: number,
    timeout: number,
    done?: { lease: string; ids: string[] },
  ): Promise<{ batch: DataBatch<T>; nextDue: number }> {
    const args = [String(count), String(timeout), String(this.deadLetterMaxLength)];
    if (done !== undefined && done.ids.length > 0) args.push(done.lease, ...done.ids);
    const [leaseEnd, nextDue, items, unreadable] = (await this.command(
      () => scripts.dataGet.run(this.connection, this.keys, args),
      `a get of ${count} item(s) on data queue "${this.name}"`,
    )) as [number, number, Buffer, Buffer[], number];
    const batch = new DataBatch<T>(timeout > 0 ? leaseEnd : 0);
    let flat: unknown[];
    try {
      flat = decodeMsgpack(items) as unknown[];
    } catch (error) {
      // Records with our header but bytes that are not MessagePack: written by something
      // else. Nothing is dropped: the whole reply travels in the error.
      throw new DataDecodeError(
        `Data queue "${this.name}": a get's items cannot be read as MessagePack (${(error as Error).message}); ${this.fate(timeout)}; the raw reply is in error.records`,
        batch,
        new Map([['(all items of this get)', items]]),
      );
    }
    // Each record is [attempts, dead-letter flag, returns, item] (see data-record.ts).
    for (let i = 0; i < flat.length; i += 2) {
      batch.set(flat[i] as string, (flat[i + 1] as unknown[])[3] as T);
    }
    if (unreadable.length > 0) {
      const records = new Map<string, Buffer>();
      for (let i = 0; i < unreadable.length; i += 2) {
        records.set(String(unreadable[i]), unreadable[i + 1]!);
      }
      throw new DataDecodeError(
        `Data queue "${this.name}": ${records.size} item(s) are not data queue records (${[...records.keys()].join(', ')}); ${this.fate(timeout)}; the readable ones are in error.batch, the others' bytes in error.records`,
        batch,
        records,
      );
    }
    return { batch, nextDue };
  }

  /** What became of unreadable items taken with this timeout. */
  private fate(timeout: number): string {
    if (timeout > 0) {
      return this.deadLetterMaxLength > 0
        ? 'they were removed and kept as dead letters (their bytes as the item)'
        : 'they were removed (dead letters are off)';
    }
    return timeout === 0 ? 'they were taken for good' : 'they were only peeked';
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
      // Not past the wait: a subscription waits for a Redis that is away.
      await Promise.race([hold.ready, new Promise((resolve) => setTimeout(resolve, wait).unref())]);
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
  // A string of digits counts as its number, as for every option (config from the environment).
  const digits = (value: unknown): unknown =>
    typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  const visibilityTimeout = digits(options.visibilityTimeout ?? 0) as number;
  const attempts = digits(options.attempts ?? 1) as number;
  const { deadLetter } = options;
  if (deadLetter !== undefined && deadLetter !== false) {
    if (deadLetter === null || typeof deadLetter !== 'object') {
      problems.push(`deadLetter must be false or { maxLength }, got ${describeValue(deadLetter)}`);
    } else {
      for (const key of Object.keys(deadLetter)) {
        if (key !== 'maxLength')
          problems.push(`unknown option "deadLetter.${key}" (known: maxLength)`);
      }
    }
  }
  pushProblem(problems, 'visibilityTimeout', timeoutProblem(visibilityTimeout));
  pushProblem(problems, 'attempts', attemptsProblem(attempts));
  const deadLetterMaxLength =
    deadLetter === false
      ? 0
      : resolveSettings(
          DEAD_LETTER_OPTIONS,
          deadLetter !== null && typeof deadLetter === 'object' ? deadLetter : {},
          'deadLetter.',
          problems,
        ).maxLength;
  throwOnProblems(`options of data queue "${name}"`, problems);
  return { visibilityTimeout, attempts, deadLetterMaxLength, redisTimeout };
}

const DATA_QUEUE_OPTION_NAMES = ['visibilityTimeout', 'attempts', 'deadLetter', 'redisTimeout'];

/**
 * Whether a failed call may still have run: Redis did not answer in time (the call may be
 * carried out later), or the connection closed while it was in flight.
 */
function outcomeUnknown(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof RedisUnavailableError) return /no answer/.test(error.message);
  return /Connection is closed|ECONNRESET|EPIPE/.test(error.message);
}

function pushProblem(problems: string[], name: string, problem: string | undefined): void {
  if (problem !== undefined) problems.push(`${name} must be ${problem}`);
}

function timeoutProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_DURATION) {
    return `a whole number of milliseconds from 0 to ${MAX_DURATION}, got ${describeValue(value)}`;
  }
  return undefined;
}

function attemptsProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_ATTEMPTS) {
    return `an integer from 1 to ${MAX_ATTEMPTS}, got ${describeValue(value)}`;
  }
  return undefined;
}

function countProblem(value: unknown): string | undefined {
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
