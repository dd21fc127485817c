import { createHash } from 'node:crypto';
import type {
  DeadLetter,
  QueueCounts,
  RunningTask,
  ScheduledEntry,
  ScheduleInfo,
  ScheduleTiming,
  TaskSummary,
} from '../core/index.js';
import type { CountSeries } from './count-history.js';
import { clip, previewValue } from './value-preview.js';

// What the dashboard's JSON API answers: summaries made for display, user data cut short
// (a task's arguments can be any size), never raw task bytes.

/** The most entries one page of the dashboard's API holds. */
export const MAX_PAGE_SIZE = 100;
/** The longest error message of a dead letter the API sends, in characters. */
const ERROR_LENGTH = 2_000;

export interface TaskView {
  readonly kind: TaskSummary['kind'];
  readonly name: string | null;
  /** The arguments, as short JSON-like text; null when unreadable or a Go task. */
  readonly args: string | null;
  readonly kwargs: string | null;
  readonly retry: number | null;
  /** Its id, for a tracked task. */
  readonly id: string | null;
  readonly bytes: number;
  readonly problem: string | null;
}

export interface QueueView {
  readonly name: string;
  /** Null when they could not be read (see `error`). */
  readonly counts: QueueCounts | null;
  readonly error: string | null;
  readonly history: CountSeries;
}

export interface OverviewView {
  /** Whether actions are on. */
  readonly actions: boolean;
  readonly sampleInterval: number;
  readonly maxPageSize: number;
  readonly queues: QueueView[];
}

export interface RunningView {
  readonly workerId: string;
  readonly alive: boolean;
  readonly expiresIn: number | null;
  readonly task: TaskView;
}

export interface ScheduledView {
  readonly id: string;
  readonly dueAt: number;
  readonly task: TaskView;
}

export interface ScheduleView {
  readonly name: string;
  readonly timing: ScheduleTiming;
  readonly neverSkip: boolean;
  readonly declared: boolean;
  readonly task: string;
  readonly args: string;
  readonly nextTick: number | null;
  readonly problem: string | null;
}

export interface DeadLetterView {
  /** Its index in the dead-letter list when read (0: the oldest). */
  readonly offset: number;
  /** A digest of its stored bytes: with `offset`, what requeue and remove take to name it. */
  readonly ref: string;
  readonly reason: DeadLetter['reason'] | 'unreadable';
  readonly error: string;
  readonly funcPath: string | null;
  readonly failedAt: number | null;
  readonly task: TaskView | null;
}

/** One page and where the next starts (an offset or a cursor; null: this was the last). */
export interface PageView<T> {
  readonly items: T[];
  readonly next: string | null;
}

export function taskView(task: TaskSummary): TaskView {
  return {
    kind: task.kind,
    name: task.name,
    args: task.args === null ? null : previewValue(task.args),
    kwargs:
      task.kwargs === null || Object.keys(task.kwargs).length === 0
        ? null
        : previewValue(task.kwargs),
    retry: task.retry,
    id: task.id,
    bytes: task.bytes,
    problem: task.problem ?? null,
  };
}

export function runningView(entry: RunningTask): RunningView {
  return {
    workerId: entry.workerId,
    alive: entry.alive,
    expiresIn: entry.expiresIn,
    task: taskView(entry.task),
  };
}

export function scheduledView(entry: ScheduledEntry): ScheduledView {
  return { id: entry.id, dueAt: entry.dueAt, task: taskView(entry.task) };
}

export function scheduleView(info: ScheduleInfo): ScheduleView {
  return {
    name: info.name,
    timing: info.timing,
    neverSkip: info.neverSkip,
    declared: info.declared,
    task: info.task.name,
    args: previewValue(info.task.args),
    nextTick: info.nextTick,
    problem: info.problem ?? null,
  };
}

/**
 * The name a dead letter goes by between a page and an action on it: a digest of its exact
 * stored bytes (the list holds no ids). Two entries with the same bytes are the same letter
 * for every purpose, so either may be acted on.
 */
export function deadLetterRef(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex').slice(0, 32);
}

/** A dead letter for display; `letter` is undefined when its bytes could not be decoded. */
export function deadLetterView(
  offset: number,
  raw: Buffer,
  letter: DeadLetter | undefined,
  task: TaskSummary | undefined,
): DeadLetterView {
  if (letter === undefined) {
    return {
      offset,
      ref: deadLetterRef(raw),
      reason: 'unreadable',
      error: `This entry (${raw.length} bytes) is not a dead letter this version can read`,
      funcPath: null,
      failedAt: null,
      task: null,
    };
  }
  return {
    offset,
    ref: deadLetterRef(raw),
    reason: letter.reason,
    error: clip(letter.error, ERROR_LENGTH),
    funcPath: letter.funcPath,
    failedAt: Number.isFinite(letter.failedAt) ? letter.failedAt : null,
    task: task === undefined ? null : taskView(task),
  };
}
