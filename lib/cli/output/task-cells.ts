import type { TaskSummary } from '../../core/index.js';
import { formatArguments, truncate } from './text.js';

/** How wide an ARGS cell may grow before it is cut with an ellipsis. */
export const ARGS_WIDTH = 48;

/** A task's name for a table: a Go task says so, unreadable bytes say why. */
export function taskNameCell(task: TaskSummary): string {
  if (task.kind === 'unreadable') return truncate(`(unreadable: ${task.problem ?? 'unknown'})`, 60);
  return task.kind === 'go' ? `${task.name} (go)` : (task.name ?? '');
}

/** A task's arguments for a table, cut to ARGS_WIDTH; a Go task's payload is not decoded. */
export function taskArgsCell(task: TaskSummary): string {
  if (task.kind === 'go') return '(go payload)';
  return truncate(formatArguments(task.args, task.kwargs), ARGS_WIDTH);
}
