/** A task as a hook around its run sees it. */
export interface TaskRun {
  readonly queue: string;
  /** The handler name (`Class:method`) or function path. */
  readonly name: string;
  readonly workerId: string;
  /** The task's id when it is tracked. */
  readonly id: string | undefined;
  /**
   * The task's options map (the fifth element a Node producer may write: a tracked task's
   * id, a trace context), or undefined for a plain or peer task.
   */
  readonly options: Readonly<Record<string, unknown>> | undefined;
}

/**
 * A hook around every handler call, for tracing and the like: it must call `run()` once and
 * return what `run()` returned (a value or a promise), which the worker then awaits as the
 * handler's outcome. It runs inside the task's context (`currentTask()` works in it).
 */
export type TaskInstrument = (task: TaskRun, run: () => unknown) => unknown;
