import {
  type CallOptions,
  InvalidOptionsError,
  MAX_DURATION,
  type ScheduleTime,
} from '../core/index.js';

// The same checks, with the same messages, as a real queue makes before it writes anything,
// so that a call refused in production is refused under DelayedTestingModule too.

/** The latest time a schedule takes: the last instant a JavaScript Date can hold (ms). */
const MAX_TIME = 8.64e15;
/** The longest unique key a call takes (characters). */
const MAX_UNIQUE_KEY = 1_024;

/** When a schedule time is due, in ms since the epoch on this process' clock. */
export function dueTime(when: ScheduleTime): number {
  if (when !== null && typeof when === 'object' && 'delay' in when) {
    const { delay } = when;
    if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0 || delay > MAX_TIME) {
      throw new InvalidOptionsError(
        `delay must be a whole number of milliseconds from 0 to ${MAX_TIME}, got ${String(delay)}`,
      );
    }
    return Date.now() + delay;
  }
  if (when !== null && typeof when === 'object' && 'at' in when) {
    const at = when.at instanceof Date ? when.at.getTime() : when.at;
    if (typeof at !== 'number' || !Number.isFinite(at) || at < 0 || at > MAX_TIME) {
      throw new InvalidOptionsError(
        `at must be a Date or ms since the epoch, from 0 to ${MAX_TIME}, got ${String(when.at)}`,
      );
    }
    return Math.round(at);
  }
  throw new InvalidOptionsError(
    'A schedule needs { delay: ms } or { at: Date | ms since the epoch }',
  );
}

/** The time of an untracked schedule made by `with(options)`; tracked-only options are refused. */
export function plainTime(options: CallOptions): ScheduleTime {
  const { delay, at, result, unique } = options ?? {};
  if (result !== undefined || unique !== undefined) {
    throw new InvalidOptionsError(
      'result and unique apply to tracked calls: use with({ … }).call(…), which returns a task handle',
    );
  }
  if (delay !== undefined && at !== undefined) {
    throw new InvalidOptionsError('with(): give delay or at, not both');
  }
  if (delay !== undefined) return { delay };
  if (at !== undefined) return { at };
  throw new InvalidOptionsError(
    'A schedule needs { delay: ms } or { at: Date | ms since the epoch } (or use call(), which also runs a call now)',
  );
}

/** A tracked call's options, checked. */
export interface CheckedCall {
  /** When it is due (ms since the epoch), or undefined to run it now. */
  readonly dueAt: number | undefined;
  /** Whether its failure keeps the error's stack. */
  readonly stack: boolean;
  readonly unique: { readonly key: string; readonly ttl: number } | undefined;
}

export function checkCallOptions(options: CallOptions): CheckedCall {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionsError('Call options must be an object');
  }
  const problems: string[] = [];
  let dueAt: number | undefined;
  if (options.delay !== undefined && options.at !== undefined) {
    problems.push('give delay or at, not both');
  } else if (options.delay !== undefined || options.at !== undefined) {
    try {
      dueAt = dueTime(options.delay !== undefined ? { delay: options.delay } : { at: options.at! });
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  const result = options.result ?? {};
  if (result.ttl !== undefined && !isDuration(result.ttl)) {
    problems.push(
      `result.ttl must be a whole number of ms from 1 to ${MAX_DURATION}, got ${String(result.ttl)}`,
    );
  }
  if (result.stack !== undefined && typeof result.stack !== 'boolean') {
    problems.push(`result.stack must be true or false, got ${String(result.stack)}`);
  }
  const unique = options.unique;
  if (unique !== undefined) {
    if (
      unique === null ||
      typeof unique.key !== 'string' ||
      unique.key.length === 0 ||
      unique.key.length > MAX_UNIQUE_KEY
    ) {
      problems.push(
        `unique.key must be a string of 1 to ${MAX_UNIQUE_KEY} characters, got ${JSON.stringify(unique?.key)}`,
      );
    }
    if (unique === null || !isDuration(unique.ttl)) {
      problems.push(
        `unique.ttl must be a whole number of ms from 1 to ${MAX_DURATION} (a unique key always expires), got ${String(unique?.ttl)}`,
      );
    }
  }
  if (problems.length > 0) {
    throw new InvalidOptionsError(`Invalid call options: ${problems.join('; ')}`);
  }
  return { dueAt, stack: result.stack === true, unique };
}

function isDuration(value: unknown): value is number {
  return (
    typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_DURATION
  );
}
