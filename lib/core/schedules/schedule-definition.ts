import { Cron } from 'croner';
import { InvalidOptionsError } from '../errors.js';
import { decodeTask, encodeTask } from '../protocol/codec.js';
import { decodeMsgpack, encodeMsgpack } from '../protocol/msgpack.js';
import { PyTask, type Task } from '../protocol/task.js';

/** When a periodic schedule ticks. */
export type ScheduleTiming =
  /**
   * Every `every` ms, on a grid counted from the Unix epoch: `every: 60_000` ticks at each
   * whole minute, whichever instance defined it and whenever.
   */
  | { readonly every: number }
  /**
   * At the times of a cron expression (5 fields, or 6 with seconds first), in `timeZone`
   * (an IANA name; default UTC). Parsed by croner; day-of-month and day-of-week combine
   * with OR, as in classic cron.
   */
  | { readonly cron: string; readonly timeZone?: string };

/** How a schedule behaves beyond its timing. */
export interface ScheduleBehavior {
  /**
   * After a time no instance could fire (an outage, a deploy): true enqueues every missed
   * tick, oldest first; false (the default) enqueues the oldest missed tick once, late,
   * skips the ones more than a second late after it, and goes on with the rest.
   */
  readonly neverSkip?: boolean;
  /**
   * Whether each tick's task gets the tick's time (ms since the epoch) as one more, last,
   * argument. The decorators set it; a schedule of a Python task usually does not.
   */
  readonly tickArg?: boolean;
  /**
   * Marks a schedule declared in code (by `@Every`/`@Cron`), which an app that no longer
   * declares it may report or remove. Set by the Nest module; default false.
   */
  readonly declared?: boolean;
}

/** A schedule's whole definition: what a schedule is in Redis. */
export interface ScheduleDefinition {
  readonly timing: ScheduleTiming;
  readonly neverSkip: boolean;
  readonly tickArg: boolean;
  readonly declared: boolean;
  /** The bytes of the task each tick enqueues (before the tick argument, if any). */
  readonly task: Buffer;
}

/** The first definition layout; a newer one is refused rather than misread. */
const LAYOUT_VERSION = 1;
/** The schedule time that means "no tick any more" (a cron that has no next time). */
export const NEVER = 8.64e15;

/** Checks a schedule's parts and builds its definition. */
export function scheduleDefinition(
  name: string,
  timing: ScheduleTiming,
  task: Task,
  behavior: ScheduleBehavior = {},
): ScheduleDefinition {
  checkName(name);
  const where = `Schedule "${name}"`;
  checkTiming(timing, where);
  const { neverSkip = false, tickArg = false, declared = false } = behavior;
  if (
    typeof neverSkip !== 'boolean' ||
    typeof tickArg !== 'boolean' ||
    typeof declared !== 'boolean'
  ) {
    throw new InvalidOptionsError(`${where}: neverSkip and tickArg must be true or false`);
  }
  if (tickArg && !(task instanceof PyTask)) {
    throw new InvalidOptionsError(`${where}: tickArg needs a PyTask or NodeTask, not a GoTask`);
  }
  const normal: ScheduleTiming =
    'every' in timing
      ? { every: timing.every }
      : { cron: timing.cron, timeZone: timing.timeZone ?? 'UTC' };
  return { timing: normal, neverSkip, tickArg, declared, task: encodeTask(task) };
}

export function checkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new InvalidOptionsError(
      `A schedule needs a name of 1 to 200 characters, got ${JSON.stringify(name)}`,
    );
  }
}

/** Checks a timing alone (a decorator's, before any task exists). */
export function checkScheduleTiming(timing: ScheduleTiming, where: string): void {
  checkTiming(timing, where);
}

function checkTiming(timing: ScheduleTiming, where: string): void {
  if (timing === null || typeof timing !== 'object') {
    throw new InvalidOptionsError(`${where}: timing must be { every: ms } or { cron, timeZone? }`);
  }
  if ('every' in timing) {
    const { every } = timing;
    if (typeof every !== 'number' || !Number.isInteger(every) || every < 1 || every > NEVER) {
      throw new InvalidOptionsError(
        `${where}: every must be a whole number of ms, at least 1, got ${String(every)}`,
      );
    }
    return;
  }
  if ('cron' in timing) {
    cronOf({ cron: timing.cron, timeZone: timing.timeZone ?? 'UTC' }, where);
    return;
  }
  throw new InvalidOptionsError(`${where}: timing must be { every: ms } or { cron, timeZone? }`);
}

const crons = new Map<string, Cron>();

/** The parsed cron of a timing, cached: every instance fires the same few schedules. */
function cronOf(timing: { cron: string; timeZone: string }, where: string): Cron {
  const key = `${timing.timeZone} ${timing.cron}`;
  let cron = crons.get(key);
  if (cron !== undefined) return cron;
  if (typeof timing.cron !== 'string') {
    throw new InvalidOptionsError(`${where}: cron must be a string, got ${typeof timing.cron}`);
  }
  try {
    // Checked here: croner reads a time zone only when it computes a time.
    new Intl.DateTimeFormat('en-US', { timeZone: timing.timeZone });
  } catch {
    throw new InvalidOptionsError(
      `${where}: unknown time zone ${JSON.stringify(timing.timeZone)} (use an IANA name such as "Europe/Berlin")`,
    );
  }
  try {
    cron = new Cron(timing.cron, { timezone: timing.timeZone, paused: true });
  } catch (error) {
    throw new InvalidOptionsError(
      `${where}: invalid cron expression ${JSON.stringify(timing.cron)}: ${(error as Error).message}`,
    );
  }
  if (crons.size > 1_000) crons.clear();
  crons.set(key, cron);
  return cron;
}

/** The first tick strictly after `after` (ms), or NEVER when the timing has none. */
export function nextTick(definition: ScheduleDefinition, after: number): number {
  const { timing } = definition;
  if ('every' in timing) return (Math.floor(after / timing.every) + 1) * timing.every;
  const next = cronOf(
    { cron: timing.cron, timeZone: timing.timeZone ?? 'UTC' },
    'A schedule',
  ).nextRun(new Date(after));
  return next === null ? NEVER : next.getTime();
}

/** The task bytes of the tick at `tick` (ms). */
export function tickTask(definition: ScheduleDefinition, tick: number): Buffer {
  if (!definition.tickArg) return definition.task;
  const task = decodeTask(definition.task);
  if (task.kind !== 'py') return definition.task;
  return encodeTask(new PyTask(task.funcPath, [...task.args, tick], task.kwargs, task.retry));
}

/** The definition as stored in Redis: MessagePack, its fields always in the same order. */
export function encodeDefinition(definition: ScheduleDefinition): Buffer {
  const { timing } = definition;
  return encodeMsgpack([
    LAYOUT_VERSION,
    'every' in timing ? timing.every : null,
    'cron' in timing ? timing.cron : null,
    'cron' in timing ? (timing.timeZone ?? 'UTC') : null,
    definition.neverSkip,
    definition.tickArg,
    definition.task,
    definition.declared,
  ]);
}

/** Reads a stored definition; throws, naming the problem, on one this version cannot read. */
export function decodeDefinition(bytes: Uint8Array): ScheduleDefinition {
  const value = decodeMsgpack(bytes);
  if (!Array.isArray(value) || value[0] !== LAYOUT_VERSION || value.length !== 8) {
    throw new InvalidOptionsError(
      `a schedule definition of another layout (${Array.isArray(value) ? `version ${String(value[0])}` : 'not an array'}); was it written by a newer nestjs-delayed?`,
    );
  }
  const [, every, cron, timeZone, neverSkip, tickArg, task, declared] = value as unknown[];
  const timing: ScheduleTiming =
    typeof every === 'number'
      ? { every }
      : { cron: String(cron), timeZone: typeof timeZone === 'string' ? timeZone : 'UTC' };
  checkTiming(timing, 'A stored schedule');
  if (!(task instanceof Uint8Array)) throw new InvalidOptionsError('a schedule without a task');
  return {
    timing,
    neverSkip: neverSkip === true,
    tickArg: tickArg === true,
    declared: declared === true,
    task: Buffer.from(task.buffer, task.byteOffset, task.byteLength),
  };
}
