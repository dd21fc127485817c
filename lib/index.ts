// The public API of nestjs-delayed. The engine alone (no Nest) is at 'nestjs-delayed/core'.
export { DelayedModule } from './delayed.module.js';
export type { DelayedModuleExtras } from './delayed.module-definition.js';
export { DELAYED_ASYNC_OPTIONS_TYPE, DELAYED_OPTIONS_TYPE } from './delayed.module-definition.js';
export type {
  DelayedDeadLetterOptions,
  DelayedModuleOptions,
  DelayedSchedulerOptions,
  DelayedSweeperOptions,
  DelayedWorkerOptions,
} from './delayed.options.js';
export { Task, type TaskOptions } from './task.decorator.js';
export {
  getScheduleMetadata,
  getTaskMetadata,
  type ScheduleMetadata,
  type TaskMetadata,
} from './task-metadata.accessor.js';
export {
  DelayedQueue,
  DelayedSchedules,
  type MethodArgs,
  type MethodName,
  type MethodResult,
  ScheduledCalls,
  type ScheduleSpec,
} from './delayed-queue.js';
export {
  Cron,
  type CronDecoratorOptions,
  Every,
  type ScheduleDecoratorOptions,
} from './schedule.decorators.js';
export { InjectQueue } from './inject-queue.decorator.js';
export { DELAYED_CONNECTION, DELAYED_MODULE_OPTIONS, getQueueToken } from './delayed.constants.js';
export { DelayedHost, type DelayedConnection } from './delayed.host.js';
export {
  ConnectionLostError,
  currentTask,
  type DeadLetter,
  type DeadLetterReason,
  DeadLetters,
  DelayedError,
  DuplicateHandlerError,
  GoTask,
  InvalidHandlerError,
  InvalidOptionsError,
  NodeTask,
  PyTask,
  RedisUnavailableError,
  RETRY_FOREVER,
  type Backoff,
  type CallOptions,
  type ResultOptions,
  ResultTimeoutError,
  TaskCancelledError,
  TaskFailedError,
  TaskHandle,
  TaskNotFoundError,
  TaskResultError,
  type TaskState,
  type TaskStatus,
  type ScheduleChange,
  type ScheduledTask,
  type ScheduleInfo,
  type ScheduleTime,
  type ScheduleTiming,
  ShutdownDeadlineError,
  TaskTimeoutError,
  Sweeper,
  type TaskContext,
  TaskDecodeError,
  type TaskCompletedEvent,
  type TaskEvent,
  type TaskFailedEvent,
  type TaskProgressEvent,
  type TaskStartedEvent,
  type WorkerStateEvent,
  UnknownHandlerError,
  UnrecoverableError,
  RateLimitedError,
  UnsupportedRedisError,
  Worker,
  WorkerStartError,
} from './core/index.js';
