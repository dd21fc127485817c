import { SetMetadata } from '@nestjs/common';
import { checkScheduleTiming, type ScheduleTiming } from './core/index.js';
import { SCHEDULE_METADATA } from './delayed.constants.js';

/** Options of `@Every()` and `@Cron()`. */
export interface ScheduleDecoratorOptions {
  /** The schedule's name in Redis. Default: the task's name (`'ClassName:methodName'`). */
  name?: string;
  /**
   * After a time no instance could fire (an outage, a deploy): true enqueues every missed
   * tick; false (default) enqueues the oldest one, late, and skips the others that are more
   * than a second late.
   */
  neverSkip?: boolean;
}

export interface CronDecoratorOptions extends ScheduleDecoratorOptions {
  /** An IANA time zone the expression is read in, e.g. 'Europe/Berlin'. Default 'UTC'. */
  timeZone?: string;
}

/** What `@Every()`/`@Cron()` store on a method. */
export interface ScheduleMetadataOptions {
  readonly timing: ScheduleTiming;
  readonly name: string | undefined;
  readonly neverSkip: boolean;
}

/**
 * Runs a provider method every `ms` milliseconds, on a grid counted from the Unix epoch
 * (`@Every(60_000)` ticks at each whole minute), once per tick across all instances. The
 * method is a task handler (as with `@Task()`, which may be added for a name, queue, retry
 * or backoff) and is called with the tick's time in ms since the epoch.
 *
 * ```ts
 * @Every(60_000) refreshRates(tickAt: number) {}
 * ```
 */
export function Every(ms: number, options: ScheduleDecoratorOptions = {}): MethodDecorator {
  return scheduleDecorator('@Every()', { every: ms }, options);
}

/**
 * Runs a provider method at the times of a cron expression (5 fields, or 6 with seconds
 * first), in a time zone, once per tick across all instances. Like `@Every()`, the method
 * is a task handler called with the tick's time.
 *
 * ```ts
 * @Cron('0 5 * * 2', { timeZone: 'Europe/Berlin' }) weeklyReport(tickAt: number) {}
 * ```
 */
export function Cron(expression: string, options: CronDecoratorOptions = {}): MethodDecorator {
  const { timeZone, ...rest } = options;
  return scheduleDecorator(
    '@Cron()',
    timeZone === undefined ? { cron: expression } : { cron: expression, timeZone },
    rest,
  );
}

function scheduleDecorator(
  where: string,
  timing: ScheduleTiming,
  options: ScheduleDecoratorOptions,
): MethodDecorator {
  // Checked here, so a wrong expression fails where it is written.
  checkScheduleTiming(timing, where);
  const { name, neverSkip = false } = options;
  if (name !== undefined && (typeof name !== 'string' || name.length === 0)) {
    throw new TypeError(`${where}: name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  if (typeof neverSkip !== 'boolean') {
    throw new TypeError(`${where}: neverSkip must be true or false`);
  }
  const metadata: ScheduleMetadataOptions = { timing, name, neverSkip };
  return SetMetadata(SCHEDULE_METADATA, metadata);
}
