import type {
  QueueEvent,
  QueueEventName,
  TaskCompletedEvent,
  TaskFailedEvent,
  TaskProgressEvent,
  TaskStartedEvent,
  WorkerStateEvent,
} from './core/index.js';
import { EVENT_LISTENER_METADATA } from './delayed.constants.js';

/** What this app's worker says about the tasks it runs, by the name `@OnTaskEvent` takes. */
export interface TaskEventMap {
  /** A handler is about to run. */
  started: TaskStartedEvent;
  /** A handler returned and the task's end was recorded. */
  completed: TaskCompletedEvent;
  /** An attempt failed and the task will be tried again (`retryIn` after a backoff). */
  retried: TaskFailedEvent;
  /** The task failed for good (no retry left, or unrecoverable): dead-lettered or dropped. */
  failed: TaskFailedEvent;
  /** The task failed for good and became a dead letter (a `failed` event comes too). */
  'dead-lettered': TaskFailedEvent;
  /** The shutdown deadline or a lost connection stopped it; a sweeper runs it again. */
  interrupted: TaskFailedEvent;
  /** A handler reported progress. */
  progress: TaskProgressEvent;
}

export type TaskEventName = keyof TaskEventMap;

/** What this app's worker says about itself, by the name `@OnWorkerEvent` takes. */
export type WorkerEventName = 'started' | 'stopped' | 'disconnected' | 'reconnected';

export interface TaskEventFilter {
  /** Only tasks of this queue (or these queues). Default: every queue the worker serves. */
  readonly queue?: string | readonly string[];
}

export interface QueueEventFilter {
  /** The queue (or queues) to hear about: required, since any process's workers may run them. */
  readonly queue: string | readonly string[];
}

/** One listener as the decorators record it on a method. */
export type EventListenerMetadata =
  | { readonly kind: 'task'; readonly event: TaskEventName; readonly queues?: readonly string[] }
  | { readonly kind: 'worker'; readonly event: WorkerEventName }
  | { readonly kind: 'queue'; readonly event: QueueEventName; readonly queues: readonly string[] };

/** A method decorator for listeners of `E`: the method may take the event, or nothing. */
type ListenerDecorator<E> = <M extends (event: E) => unknown>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void;

function record<E>(metadata: EventListenerMetadata): ListenerDecorator<E> {
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const known = (Reflect.getMetadata(EVENT_LISTENER_METADATA, method) ??
      []) as EventListenerMetadata[];
    Reflect.defineMetadata(EVENT_LISTENER_METADATA, [...known, metadata], method);
  };
}

function queueList(
  queue: string | readonly string[] | undefined,
  where: string,
): string[] | undefined {
  if (queue === undefined) return undefined;
  const queues = typeof queue === 'string' ? [queue] : [...queue];
  if (queues.length === 0 || queues.some((name) => typeof name !== 'string' || name === '')) {
    throw new TypeError(`${where}: queue must be a queue name or a non-empty array of them`);
  }
  return queues;
}

/**
 * Calls the method on an event of a task this app's worker runs; the method gets the event
 * (typed after its name). Any provider may have such methods; a listener that throws or
 * rejects is logged and never disturbs the worker. Listeners run in the worker's turn:
 * keep them quick, and hand slow work to a task.
 *
 * ```ts
 * @OnTaskEvent('failed', { queue: 'emails' })
 * alert(event: TaskFailedEvent) { this.pager.page(`${event.name}: ${String(event.error)}`); }
 * ```
 */
export function OnTaskEvent<E extends TaskEventName>(
  event: E,
  filter: TaskEventFilter = {},
): ListenerDecorator<TaskEventMap[E]> {
  const queues = queueList(filter.queue, `@OnTaskEvent('${event}')`);
  return record({ kind: 'task', event, ...(queues === undefined ? {} : { queues }) });
}

/**
 * Calls the method when this app's worker starts (claims its slots and fetches), stops
 * (goes offline), loses Redis, or reconnects.
 */
export function OnWorkerEvent(event: WorkerEventName): ListenerDecorator<WorkerStateEvent> {
  return record({ kind: 'worker', event });
}

/**
 * Calls the method on an event of a task run by any process's worker, heard over Redis
 * Pub/Sub: for a producer that wants to know what became of work others run. Workers
 * publish only when asked (`DelayedModule.forRoot({ events: { publish: true } })`); events
 * are heard at most once and only while connected.
 *
 * ```ts
 * @OnQueueEvent('completed', { queue: 'reports' })
 * done(event: QueueEvent) { this.sockets.notify(event.id); }
 * ```
 */
export function OnQueueEvent<E extends QueueEventName>(
  event: E,
  filter: QueueEventFilter,
): ListenerDecorator<QueueEvent> {
  const queues = queueList(filter?.queue, `@OnQueueEvent('${event}')`);
  if (queues === undefined) {
    throw new TypeError(`@OnQueueEvent('${event}') needs { queue: 'name' }`);
  }
  return record({ kind: 'queue', event, queues });
}

/** The listeners the decorators recorded on a method (none: an empty array). */
export function getEventListenerMetadata(method: object): readonly EventListenerMetadata[] {
  return (Reflect.getMetadata(EVENT_LISTENER_METADATA, method) ?? []) as EventListenerMetadata[];
}
