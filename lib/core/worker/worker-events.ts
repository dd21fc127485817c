/** What became of one task, as the worker's events report it. */
export interface TaskEvent {
  readonly queue: string;
  /** The task's name: a handler name or function path; null when its bytes could not be read. */
  readonly name: string | null;
  /** The worker id (slot id) the task was recorded under while it ran. */
  readonly workerId: string;
}

export interface TaskFailedEvent extends TaskEvent {
  readonly error: unknown;
  /**
   * retried: back in the queue; buried: a dead letter; dropped: logged and released;
   * interrupted: nothing could be written for it (the shutdown deadline aborted it, or the
   * worker closed or lost Redis before its outcome was recorded): it stays recorded, and a
   * sweeper runs it again once its worker id expires.
   */
  readonly outcome: 'retried' | 'buried' | 'dropped' | 'interrupted';
  /** For a retry after a backoff: the wait before the next attempt, in ms. */
  readonly retryIn?: number;
}

/** A handler reported progress (`currentTask().progress(…)`). */
export interface TaskProgressEvent extends TaskEvent {
  /** The task's id if it is tracked. */
  readonly id: string | undefined;
  readonly progress: unknown;
}

export interface WorkerEvents {
  completed: [TaskEvent];
  progress: [TaskProgressEvent];
  failed: [TaskFailedEvent];
}
