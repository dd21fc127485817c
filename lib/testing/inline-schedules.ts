import {
  checkScheduleName,
  InvalidOptionsError,
  NO_NEXT_TICK,
  nextTick,
  PyTask,
  type ScheduleBehavior,
  type ScheduleChange,
  scheduleDefinition,
  type ScheduleDefinition,
  type ScheduleInfo,
  type ScheduleTiming,
  type Task,
} from '../core/index.js';

/** One periodic schedule, kept in memory. */
interface InlineSchedule {
  readonly timing: ScheduleTiming;
  readonly neverSkip: boolean;
  readonly tickArg: boolean;
  readonly declared: boolean;
  readonly task: Task;
  /** The task's bytes: two definitions are the same when these and the rest are. */
  readonly bytes: Buffer;
  nextTick: number | null;
}

/**
 * The periodic and cron schedules of DelayedTestingModule's queues, in memory. Nothing fires
 * them on a clock: a test fires a tick with `InlineTasks.fireSchedule(name)`. The checks are
 * the real ones, so a schedule refused in production is refused here too.
 */
export class InlineSchedules {
  private readonly queues = new Map<string, Map<string, InlineSchedule>>();

  /** Creates or changes a schedule; the same definition again changes nothing. */
  set(
    queue: string,
    name: string,
    timing: ScheduleTiming,
    task: Task,
    behavior: ScheduleBehavior = {},
  ): ScheduleChange {
    // The queue's own checks and normal form, so a schedule refused in production is refused here.
    const definition = scheduleDefinition(name, timing, task, behavior);
    const schedule: InlineSchedule = {
      timing: definition.timing,
      neverSkip: definition.neverSkip,
      tickArg: definition.tickArg,
      declared: definition.declared,
      task,
      bytes: definition.task,
      nextTick: nextTickAfter(definition, Date.now()),
    };
    let schedules = this.queues.get(queue);
    if (schedules === undefined) {
      schedules = new Map();
      this.queues.set(queue, schedules);
    }
    const known = schedules.get(name);
    if (known !== undefined && sameDefinition(known, schedule)) return 'unchanged';
    schedules.set(name, schedule);
    return known === undefined ? 'created' : 'changed';
  }

  remove(queue: string, name: string): boolean {
    checkScheduleName(name);
    return this.queues.get(queue)?.delete(name) ?? false;
  }

  get(queue: string, name: string): ScheduleInfo | undefined {
    checkScheduleName(name);
    const schedule = this.queues.get(queue)?.get(name);
    return schedule === undefined ? undefined : info(queue, name, schedule);
  }

  list(queue: string): ScheduleInfo[] {
    const schedules = this.queues.get(queue);
    if (schedules === undefined) return [];
    return [...schedules.keys()].sort().map((name) => info(queue, name, schedules.get(name)!));
  }

  /** The queues that have a schedule of this name. */
  queuesOf(name: string): string[] {
    return [...this.queues].filter(([, schedules]) => schedules.has(name)).map(([queue]) => queue);
  }

  /**
   * The task of one tick, at `at` (default: the schedule's next tick, or now when it has
   * none), with the tick's time as its last argument when the schedule asks for it; the
   * schedule's next tick moves past it.
   */
  tick(queue: string, name: string, at?: number): Task {
    const schedule = this.queues.get(queue)?.get(name);
    if (schedule === undefined) {
      throw new InvalidOptionsError(`Queue "${queue}" has no schedule named "${name}"`);
    }
    const tick = at ?? schedule.nextTick ?? Date.now();
    schedule.nextTick = nextTickAfter(schedule, tick);
    const { task } = schedule;
    if (!schedule.tickArg || !(task instanceof PyTask)) return task;
    const Kind = task.constructor as typeof PyTask;
    return new Kind(task.funcPath, [...task.args, tick], task.kwargs, task.retry);
  }
}

/** The first tick strictly after `after` (ms), or null when the timing has none. */
function nextTickAfter(schedule: Pick<ScheduleDefinition, 'timing'>, after: number): number | null {
  // nextTick reads a definition's timing only.
  const next = nextTick(schedule as ScheduleDefinition, after);
  return next === NO_NEXT_TICK ? null : next;
}

function sameDefinition(a: InlineSchedule, b: InlineSchedule): boolean {
  return (
    JSON.stringify(a.timing) === JSON.stringify(b.timing) &&
    a.neverSkip === b.neverSkip &&
    a.tickArg === b.tickArg &&
    a.declared === b.declared &&
    a.bytes.equals(b.bytes)
  );
}

function info(queue: string, name: string, schedule: InlineSchedule): ScheduleInfo {
  const { task } = schedule;
  return {
    name,
    queue,
    timing: schedule.timing,
    neverSkip: schedule.neverSkip,
    tickArg: schedule.tickArg,
    declared: schedule.declared,
    task: { name: task.funcPath, args: task instanceof PyTask ? task.args : [] },
    nextTick: schedule.nextTick,
  };
}
