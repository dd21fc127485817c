/** Metadata key under which `@Task()` stores a method's task options. */
export const TASK_METADATA = 'nestjs-delayed:task';
/** Metadata key under which `@Every()`/`@Cron()` store a method's schedule. */
export const SCHEDULE_METADATA = 'nestjs-delayed:schedule';
/** Token of the schedules the explorer found in code (`@Every`, `@Cron`). */
export const DELAYED_DECLARED_SCHEDULES = Symbol('nestjs-delayed:declared-schedules');
/** Token of the options given to forRoot / made by forRootAsync, as given. */
export const DELAYED_MODULE_OPTIONS = Symbol('nestjs-delayed:module-options');
/** Token of the Redis connection the module uses (yours, or one it opened and owns). */
export const DELAYED_CONNECTION = Symbol('nestjs-delayed:connection');
/** Token of the task handler registry the explorer fills. */
export const DELAYED_HANDLERS = Symbol('nestjs-delayed:handlers');
/** Token of the resolved module options (defaults applied, validated). */
export const DELAYED_RESOLVED_OPTIONS = Symbol('nestjs-delayed:resolved-options');
/**
 * Token of the `nodeTaskOptions` the module's queues use, if a module provides one globally
 * (DelayedTracingModule does): optional, so without it tasks are written as the peers write them.
 */
export const DELAYED_NODE_TASK_OPTIONS = Symbol('nestjs-delayed:node-task-options');

/** The injection token of the queue named `name` (see `@InjectQueue`). */
export function getQueueToken(name: string): string {
  return `nestjs-delayed:queue:${name}`;
}

/** The injection token of the data queue named `name` (see `@InjectDataQueue`). */
export function getDataQueueToken(name: string): string {
  return `nestjs-delayed:data-queue:${name}`;
}

/** Token of every data queue the module provides (swept by the app's sweeper). */
export const DELAYED_DATA_QUEUES = Symbol('nestjs-delayed:data-queues');

/**
 * Token of the data queue definitions given beside the module's options, checked: what
 * `overrideDelayedModule` reads to give the testing module the same data queues.
 */
export const DELAYED_DATA_QUEUE_DEFINITIONS = Symbol('nestjs-delayed:data-queue-definitions');

/** Metadata key under which `@OnTaskEvent()`/`@OnWorkerEvent()`/`@OnQueueEvent()` store a method's listeners. */
export const EVENT_LISTENER_METADATA = 'nestjs-delayed:event-listeners';
