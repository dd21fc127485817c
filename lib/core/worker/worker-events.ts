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
   * interrupted: it ended after the shutdown deadline aborted it, and stays recorded for a
   * sweeper to run again.
   */
  readonly outcome: 'retried' | 'buried' | 'dropped' | 'interrupted';
}

export interface WorkerEvents {
  completed: [TaskEvent];
  failed: [TaskFailedEvent];
}
