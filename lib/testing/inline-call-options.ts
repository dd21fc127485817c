import {
  type CallOptions,
  checkCallOptions as checkQueueCallOptions,
  scheduleArgs,
  type ScheduleTime,
} from '../core/index.js';
import { plainScheduleTime } from '../delayed-queue.js';

// The queue's own checks (checkCallOptions, scheduleArgs), so that a call refused in
// production is refused under DelayedTestingModule too, with the same message.

/** When a schedule time is due, in ms since the epoch on this process' clock. */
export function dueTime(when: ScheduleTime): number {
  const [mode, time] = scheduleArgs(when);
  return mode === 'in' ? Date.now() + Number(time) : Number(time);
}

/** The time of an untracked schedule made by `with(options)`, as the real queue checks it. */
export const plainTime = plainScheduleTime;

/** A tracked call's options, checked. */
export interface CheckedCall {
  /** When it is due (ms since the epoch), or undefined to run it now. */
  readonly dueAt: number | undefined;
  /** Whether its failure keeps the error's stack. */
  readonly stack: boolean;
  readonly unique: { readonly key: string; readonly ttl: number } | undefined;
}

export function checkCallOptions(options: CallOptions): CheckedCall {
  const { mode, time, stack, unique } = checkQueueCallOptions(options);
  return {
    dueAt: mode === 'now' ? undefined : mode === 'in' ? Date.now() + Number(time) : Number(time),
    stack,
    unique,
  };
}
