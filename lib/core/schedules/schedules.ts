import type { RedisClient } from '../redis/client.js';
import { errorMessage } from '../logger.js';
import { decodeTask } from '../protocol/codec.js';
import type { QueueKeys } from '../protocol/keys.js';
import { MAX_INSPECT_PAGE } from '../limits.js';
import { InvalidOptionsError } from '../errors.js';
import type { Task } from '../protocol/task.js';
import { whenReady, withinTimeout } from '../redis/connection.js';
import { scripts } from '../redis/lua-scripts.js';
import { scheduleSignals } from '../queue/schedule-signals.js';
import {
  checkName,
  decodeDefinition,
  encodeDefinition,
  NEVER,
  nextTick,
  type ScheduleBehavior,
  scheduleDefinition,
  type ScheduleTiming,
} from './schedule-definition.js';

/** What `set` did: nothing (the same definition was there), or created or replaced it. */
export type ScheduleChange = 'unchanged' | 'created' | 'changed';

/** A schedule as `list` and `get` read it back. */
export interface ScheduleInfo {
  readonly name: string;
  readonly queue: string;
  readonly timing: ScheduleTiming;
  readonly neverSkip: boolean;
  readonly tickArg: boolean;
  /** Declared in code (by `@Every`/`@Cron`), not added at run time. */
  readonly declared: boolean;
  /** The task's name (function path) and its arguments, as each tick enqueues them. */
  readonly task: { readonly name: string; readonly args: readonly unknown[] };
  /** The next tick's time in ms since the epoch, or null if it has no next tick. */
  readonly nextTick: number | null;
  /** Set when this version cannot read the stored definition (written by a newer one). */
  readonly problem?: string;
}

/**
 * The periodic schedules of one queue, in Redis: any process may add, change, list or
 * remove them; the processes that run a `Scheduler` fire them.
 */
export class Schedules {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: QueueKeys,
    private readonly queue: string,
    private readonly redisTimeout: number,
  ) {}

  /**
   * Creates a schedule, or changes it if its definition differs from the stored one. The
   * same definition again changes nothing (its next tick included), so every instance of an
   * app may call this at boot. A new or changed schedule ticks first at its first time
   * after now (Redis' clock).
   */
  async set(
    name: string,
    timing: ScheduleTiming,
    task: Task,
    behavior: ScheduleBehavior = {},
  ): Promise<ScheduleChange> {
    const definition = scheduleDefinition(name, timing, task, behavior);
    const now = await this.bounded(() => this.redisNow(), 'a schedule change');
    const first = nextTick(definition, now);
    const result = await this.bounded(
      () =>
        scripts.scheduleSet.run(this.redis, this.keys, [
          name,
          encodeDefinition(definition),
          String(first),
        ]),
      'a schedule change',
    );
    const change = (['unchanged', 'created', 'changed'] as const)[result as number]!;
    // This process's schedulers look at once (one may not serve this queue yet).
    if (change !== 'unchanged') scheduleSignals.emit('schedule-set', this.queue);
    return change;
  }

  /** Removes a schedule: no tick fires after this. Returns false if there was none. */
  async remove(name: string): Promise<boolean> {
    checkName(name);
    const removed = await this.bounded(
      () => scripts.scheduleRemove.run(this.redis, this.keys, [name]),
      'a schedule removal',
    );
    return removed === 1;
  }

  /** One schedule, or undefined. */
  async get(name: string): Promise<ScheduleInfo | undefined> {
    checkName(name);
    const [bytes, tick] = await this.bounded(
      () =>
        Promise.all([
          this.redis.hgetBuffer(this.keys.schedules, name),
          this.redis.zscore(this.keys.scheduleTicks, name),
        ]),
      'a schedule read',
    );
    return bytes === null ? undefined : this.info(name, bytes, tick);
  }

  /** Every schedule of the queue, by name. */
  async list(): Promise<ScheduleInfo[]> {
    const [definitions, ticks] = await this.bounded(
      () =>
        Promise.all([
          this.redis.hgetallBuffer(this.keys.schedules),
          this.redis.zrange(this.keys.scheduleTicks, 0, -1, 'WITHSCORES'),
        ]),
      'a schedule listing',
    );
    const tickOf = new Map<string, string>();
    for (let i = 0; i < ticks.length; i += 2) tickOf.set(ticks[i]!, ticks[i + 1]!);
    return Object.keys(definitions)
      .sort()
      .map((name) => this.info(name, definitions[name]!, tickOf.get(name) ?? null));
  }

  /**
   * One page of the queue's schedules, for listings that must stay cheap however many there
   * are: HSCAN with COUNT `limit` (a hint: a page may hold a few more, and a small hash comes
   * whole), then the next ticks of just those. Pass `next` back to go on; null ends.
   * Unordered (hash order); `list()` reads every schedule, sorted.
   */
  async page(
    cursor: string | null = null,
    limit = 50,
  ): Promise<{ items: ScheduleInfo[]; next: string | null }> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_INSPECT_PAGE) {
      throw new InvalidOptionsError(
        `limit must be a whole number from 1 to ${MAX_INSPECT_PAGE}, got ${String(limit)}`,
      );
    }
    if (cursor !== null && !/^\d+$/.test(cursor)) {
      throw new InvalidOptionsError(
        `cursor must be the "next" of a previous page, got ${JSON.stringify(cursor)}`,
      );
    }
    const [next, flat] = await this.bounded(
      () => this.redis.hscanBuffer(this.keys.schedules, cursor ?? '0', 'COUNT', limit),
      'a schedule listing',
    );
    const names: string[] = [];
    const definitions: Buffer[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      names.push(flat[i]!.toString());
      definitions.push(flat[i + 1]!);
    }
    const ticks =
      names.length === 0
        ? []
        : await this.bounded(
            () => this.redis.zmscore(this.keys.scheduleTicks, ...names),
            'a schedule listing',
          );
    const nextCursor = next.toString();
    return {
      items: names.map((name, i) => this.info(name, definitions[i]!, ticks[i] ?? null)),
      next: nextCursor === '0' ? null : nextCursor,
    };
  }

  private info(name: string, bytes: Buffer, tick: string | null): ScheduleInfo {
    const next = tick === null || Number(tick) >= NEVER ? null : Number(tick);
    try {
      const definition = decodeDefinition(bytes);
      const task = decodeTask(definition.task);
      return {
        name,
        queue: this.queue,
        timing: definition.timing,
        neverSkip: definition.neverSkip,
        tickArg: definition.tickArg,
        declared: definition.declared,
        task: { name: task.funcPath, args: task.kind === 'py' ? task.args : [] },
        nextTick: next,
      };
    } catch (error) {
      return {
        name,
        queue: this.queue,
        timing: { every: 0 },
        neverSkip: false,
        tickArg: false,
        declared: false,
        task: { name: '', args: [] },
        nextTick: next,
        problem: errorMessage(error),
      };
    }
  }

  private async redisNow(): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /**
   * Sends a command once Redis is ready (never before: one left queued behind a failed wait
   * would reject later with nobody listening), bounded by redisTimeout.
   */
  private async bounded<T>(command: () => Promise<T>, what: string): Promise<T> {
    if (this.redis.status !== 'ready') await whenReady(this.redis, this.redisTimeout);
    return withinTimeout(this.redis, command(), this.redisTimeout, what);
  }
}
