import { decodeTask } from '../protocol/codec.js';
import { isTaskId } from '../tracking/task-id.js';

/** A task's bytes as an operator sees them: what it calls and with what, never the raw bytes. */
export interface TaskSummary {
  /** py: a delayed PyTask (Node handlers included); go: a GoTask; unreadable: not a task. */
  readonly kind: 'py' | 'go' | 'unreadable';
  /** Its handler name or function path; null when unreadable. */
  readonly name: string | null;
  /** Its arguments (a Go task's payload is not decoded: null). */
  readonly args: readonly unknown[] | null;
  readonly kwargs: Readonly<Record<string, unknown>> | null;
  /** Retries left (-1: for ever); null for a Go task or unreadable bytes. */
  readonly retry: number | null;
  /** Its id when it is a tracked task. */
  readonly id: string | null;
  /** The size of its bytes. */
  readonly bytes: number;
  /** Why it could not be read, when unreadable. */
  readonly problem?: string;
}

/** Reads a task's bytes for display; never throws. */
export function summarizeTask(bytes: Buffer): TaskSummary {
  try {
    const task = decodeTask(bytes);
    if (task.kind === 'go') {
      return {
        kind: 'go',
        name: task.funcPath,
        args: null,
        kwargs: null,
        retry: null,
        id: null,
        bytes: bytes.length,
      };
    }
    const id = task.options?.['id'];
    return {
      kind: 'py',
      name: task.funcPath,
      args: task.args,
      kwargs: task.kwargs,
      retry: task.retry,
      id: isTaskId(id) ? id : null,
      bytes: bytes.length,
    };
  } catch (error) {
    return {
      kind: 'unreadable',
      name: null,
      args: null,
      kwargs: null,
      retry: null,
      id: null,
      bytes: bytes.length,
      problem: error instanceof Error ? error.message : String(error),
    };
  }
}
