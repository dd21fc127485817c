import { InvalidOptionsError } from '../errors.js';
import type { NodeTask } from '../protocol/task.js';

/**
 * Entries for the options map (the fifth element) of a NodeTask a queue enqueues or
 * schedules, or undefined for none: see `QueueOptions.nodeTaskOptions`. It is called once
 * per task, synchronously, in the caller's async context, when the task is encoded; so it
 * can read what is current there (a trace context, say), task by task, even when tasks of
 * one turn are written together.
 */
export type NodeTaskOptions = (
  task: NodeTask,
  queue: string,
) => Readonly<Record<string, unknown>> | undefined;

/** Keys of the options map that belong to a tracked task's envelope (see tracked-call.ts). */
const TRACKING_KEYS = ['id', 'unique', 'stack'] as const;

/**
 * What `hook` adds to `task`'s options map, checked: undefined, or a map without the keys a
 * tracked task's envelope uses (a plain task with an `id` would read as tracked).
 */
export function addedTaskOptions(
  hook: NodeTaskOptions,
  task: NodeTask,
  queue: string,
): Readonly<Record<string, unknown>> | undefined {
  const added = hook(task, queue);
  if (added === undefined) return undefined;
  if (added === null || typeof added !== 'object' || Array.isArray(added)) {
    throw new InvalidOptionsError(
      `nodeTaskOptions must return a map or undefined, got ${added === null ? 'null' : Array.isArray(added) ? 'an array' : typeof added}`,
    );
  }
  for (const key of TRACKING_KEYS) {
    if (key in added) {
      throw new InvalidOptionsError(
        `nodeTaskOptions returned the key "${key}", which belongs to tracked tasks (call()); use another key`,
      );
    }
  }
  return added;
}
