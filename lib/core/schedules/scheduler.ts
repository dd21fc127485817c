import type { RedisClient } from '../redis/client.js';
import { DEFAULT_REDIS_TIMEOUT } from '../defaults.js';
import { consoleLogger, type DelayedLogger, errorMessage } from '../logger.js';
import { DueLoop } from '../maintenance/due-loop.js';
import type { QueueKeys } from '../protocol/keys.js';
import { withinTimeout } from '../redis/connection.js';
import { scripts } from '../redis/lua-scripts.js';
import { scheduleSignals } from '../queue/schedule-signals.js';
import {
  decodeDefinition,
  nextTick,
  type ScheduleDefinition,
  tickTask,
} from './schedule-definition.js';

/** A queue whose schedules a scheduler fires: its keys, on a connection. */
export interface ScheduledQueue {
  readonly name: string;
  readonly keys: QueueKeys;
  readonly redis: RedisClient;
}

export interface SchedulerOptions {
  readonly queues: readonly ScheduledQueue[];
  /** Default: the console. */
  readonly logger?: DelayedLogger;
  /** How long one look may wait for Redis (ms). Default 5,000. */
  readonly redisTimeout?: number;
}

/**
 * How late a tick may be and still fire without neverSkip: a scheduler slowed by a busy
 * process or a reconnect fires the ticks of the last second; older ones count as missed.
 */
export const MISSED_AFTER = 1_000;
/** How soon to look again at a queue whose connection is not ready (connecting, say). */
const NOT_READY_WAIT = 50;
/** Schedules read per script call. */
const SCHEDULES_PER_LOOK = 100;
/**
 * The longest wait between two looks: a schedule added or changed by another process is
 * seen within this, and a timer that died with a connection costs no more.
 */
export const SCHEDULER_MAX_WAIT = 1_000;

/**
 * Fires the periodic schedules of its queues. No leader: any number of schedulers in any
 * number of processes look at the same schedules, and each tick is enqueued exactly once,
 * by a compare-and-set script that enqueues it and advances the schedule only if the
 * schedule still waits for that very tick and it is due on Redis' clock. A scheduler killed
 * at any instant leaves each tick either enqueued and advanced or neither; another one (or
 * the same one, restarted) fires it then.
 */
export class Scheduler {
  private readonly queues: ScheduledQueue[] = [];
  private readonly redisTimeout: number;
  private readonly logger: DelayedLogger;
  private readonly loop = new DueLoop(() => this.lookAll(), SCHEDULER_MAX_WAIT);
  /** Definitions this version cannot read, reported once each. */
  private readonly reported = new Set<string>();
  private readonly parsed = new Map<string, ScheduleDefinition>();

  constructor(options: SchedulerOptions) {
    this.logger = options.logger ?? consoleLogger;
    this.redisTimeout = options.redisTimeout ?? DEFAULT_REDIS_TIMEOUT;
    for (const queue of options.queues) this.add(queue);
  }

  /** Adds a queue (one already there, by name, is ignored). */
  add(queue: ScheduledQueue): void {
    if (!this.queues.some((known) => known.name === queue.name)) this.queues.push(queue);
  }

  start(): void {
    scheduleSignals.off('schedule-set', this.scheduleSet); // started twice: listen once
    scheduleSignals.on('schedule-set', this.scheduleSet);
    this.loop.start();
  }

  /** Stops firing; waits for a look in progress, at most 2 s (each tick is atomic anyway). */
  stop(): Promise<void> {
    scheduleSignals.off('schedule-set', this.scheduleSet);
    return this.loop.stop();
  }

  /** A schedule set in this process fires on time, not at the next look. */
  private readonly scheduleSet = (queue: string): void => {
    if (this.queues.some((known) => known.name === queue)) this.loop.arm(0);
  };

  /** Looks now (after a schedule change in this process, or a reconnect). */
  nudge(): void {
    this.loop.arm(0);
  }

  /** One look at every queue; resolves with the ms until the next tick (never rejects). */
  private async lookAll(): Promise<number> {
    let wait = SCHEDULER_MAX_WAIT;
    for (const queue of this.queues) {
      if (queue.redis.status !== 'ready') {
        wait = Math.min(wait, NOT_READY_WAIT);
        continue;
      }
      try {
        wait = Math.min(wait, await this.look(queue));
      } catch (error) {
        if (queue.redis.status === 'ready') {
          this.logger.warn(
            `Firing the schedules of queue "${queue.name}" failed: ${errorMessage(error)}; trying again`,
          );
        }
      }
    }
    return wait;
  }

  private async look(queue: ScheduledQueue): Promise<number> {
    let wait = SCHEDULER_MAX_WAIT;
    // Due entries this scheduler cannot fire (a definition of a newer layout, a tick without
    // its definition) stay due; later pages pass over them, so they never hold up the rest.
    let passOver = 0;
    for (;;) {
      const reply = (await this.bounded(
        queue,
        scripts.scheduleDue.run(queue.redis, queue.keys, [
          String(SCHEDULES_PER_LOOK),
          String(passOver),
        ]),
      )) as (number | Buffer | null)[];
      const now = reply[0] as number;
      const later = reply[1] as number;
      if (later >= 0) wait = Math.min(wait, later - now);
      const due = (reply.length - 2) / 3;
      for (let i = 2; i < reply.length; i += 3) {
        const name = (reply[i] as Buffer).toString();
        const tick = reply[i + 1] as number;
        const bytes = reply[i + 2] as Buffer | null;
        // A tick time without its definition (deleted by hand): nothing to fire.
        const definition = bytes === null ? undefined : this.definition(queue, name, bytes);
        if (definition === undefined) {
          passOver++;
          continue;
        }
        // A tick fired late leaves the ones it missed behind: neverSkip fires each of them
        // next (the following tick is still due); otherwise the schedule goes on with the
        // first tick less than MISSED_AFTER late, and older ones are skipped.
        const following = nextTick(
          definition,
          definition.neverSkip ? tick : Math.max(tick, now - MISSED_AFTER),
        );
        const fired = await this.bounded(
          queue,
          scripts.scheduleFire.run(queue.redis, queue.keys, [
            name,
            bytes!,
            String(tick),
            String(following),
            tickTask(definition, tick),
          ]),
        );
        // Fired here or by another scheduler (0), the schedule now waits for `following`
        // (at once if still due: a missed tick of neverSkip); a changed or removed one (-1)
        // has left the due range and is read again at the next look.
        if (fired === 1 || fired === 0) wait = Math.min(wait, following - now);
      }
      if (due < SCHEDULES_PER_LOOK) break;
    }
    return Math.max(0, wait);
  }

  /** A stored definition, parsed once; undefined (reported once) if this version cannot read it. */
  private definition(
    queue: ScheduledQueue,
    name: string,
    bytes: Buffer,
  ): ScheduleDefinition | undefined {
    const key = `${queue.name}\0${name}\0${bytes.toString('base64')}`;
    const known = this.parsed.get(key);
    if (known !== undefined) return known;
    try {
      const definition = decodeDefinition(bytes);
      if (this.parsed.size > 10_000) this.parsed.clear();
      this.parsed.set(key, definition);
      return definition;
    } catch (error) {
      if (!this.reported.has(key)) {
        this.reported.add(key);
        this.logger.error(
          `Schedule "${name}" of queue "${queue.name}" is not fired here: ${errorMessage(error)}`,
        );
      }
      return undefined;
    }
  }

  private bounded<T>(queue: ScheduledQueue, command: Promise<T>): Promise<T> {
    return withinTimeout(queue.redis, command, this.redisTimeout, 'a schedule tick');
  }
}
