/** What became of one task, as the worker's events report it. */
export interface TaskEvent {
  readonly queue: string;
  /** The task's name: a handler name or function path; null when its bytes could not be read. */
  readonly name: string | null;
  /** The worker id (slot id) the task was recorded under while it ran. */
  readonly workerId: string;
  /** The task's id if it is tracked (enqueued with `call()`), else undefined. */
  readonly id?: string | undefined;
}

/** A task's handler is about to run. */
export interface TaskStartedEvent extends TaskEvent {
  readonly name: string;
  /** Retries left after this attempt if it fails: 0 for the last one, -1 for "for ever". */
  readonly retriesLeft: number;
}

/** A task's handler returned and its end was recorded. */
export interface TaskCompletedEvent extends TaskEvent {
  readonly name: string;
  /** How long its handler ran, in ms. */
  readonly duration: number;
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
  /** How long its handler ran, in ms; undefined when it never ran (unreadable bytes, no handler). */
  readonly duration?: number | undefined;
}

/** A handler reported progress (`currentTask().progress(…)`). */
export interface TaskProgressEvent extends TaskEvent {
  /** The task's id if it is tracked. */
  readonly id: string | undefined;
  readonly progress: unknown;
}

/** The worker itself: started, stopped, lost or found Redis again. */
export interface WorkerStateEvent {
  /** The queues it serves, highest priority first. */
  readonly queues: readonly string[];
  /** Where Redis is (host:port). */
  readonly redis: string;
}

export interface WorkerEvents {
  /** A task's handler is about to run. */
  active: [TaskStartedEvent];
  completed: [TaskCompletedEvent];
  progress: [TaskProgressEvent];
  failed: [TaskFailedEvent];
  /** The worker claimed its slots and fetches. */
  online: [WorkerStateEvent];
  /** The worker went offline (closed); every task it could finish was finished. */
  offline: [WorkerStateEvent];
  /** The worker lost its connection to Redis and reconnects. */
  disconnected: [WorkerStateEvent];
  /** The worker is connected again and fetches. */
  reconnected: [WorkerStateEvent];
}

/**
 * Where the task runner tells what happens: the worker's events, through the worker, which
 * keeps a listener that throws from disturbing a task (see Worker).
 */
export interface TaskEventSink {
  emit<K extends keyof WorkerEvents>(event: K, ...args: WorkerEvents[K]): void;
  listenerCount(event: keyof WorkerEvents): number;
}
