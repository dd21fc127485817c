// The engine's public API, at 'nestjs-delayed/core': queue, worker, sweeper, tasks, errors,
// and the option tables an integration (such as the Nest module) resolves options with.
// Wire internals (key builders, scripts) stay inside. The MessagePack helpers, the data
// queues' id list check, item ids and dead-letter decoding are out for nestjs-delayed/testing,
// whose in-memory data queue must copy items and refuse calls exactly as the real one does
// (its other checks it inherits from DataQueue).
export { DEFAULT_DRAIN_TIMEOUT, DEFAULT_QUEUE_NAME, DEFAULT_RESULT_TIMEOUT } from './defaults.js';
export {
  ConnectionLostError,
  DelayedError,
  DrainTimeoutError,
  DuplicateHandlerError,
  InvalidHandlerError,
  InvalidOptionsError,
  NotReplicatedError,
  RedisUnavailableError,
  ShutdownDeadlineError,
  TaskTimeoutError,
  TaskDecodeError,
  DataDecodeError,
  DataPutError,
  UnknownHandlerError,
  UnrecoverableError,
  RateLimitedError,
  ResultTimeoutError,
  TaskCancelledError,
  TaskFailedError,
  TaskNotFoundError,
  TaskResultError,
  UnsupportedRedisError,
  WorkerStartError,
} from './errors.js';
export { consoleLogger, type DelayedLogger, errorMessage } from './logger.js';
export {
  DEAD_LETTER_OPTIONS,
  type DeadLetterSettings,
  describeValue,
  QUEUE_OPTIONS,
  type QueueSettings,
  resolveSettings,
  resolveWorkerSettings,
  SWEEPER_OPTIONS,
  type SweeperSettings,
  throwOnProblems,
  WORKER_OPTIONS,
  type WorkerSettings,
} from './options.js';
export { decodeTask, encodeTask } from './protocol/codec.js';
export { decodeMsgpack, encodeMsgpack } from './protocol/msgpack.js';
export {
  type DecodedGoTask,
  type DecodedPyTask,
  type DecodedTask,
  GoTask,
  type Kwargs,
  NodeTask,
  PyTask,
  RETRY_FOREVER,
  type Task,
} from './protocol/task.js';
export {
  type DeadLetter,
  type DeadLetterReason,
  DeadLetters,
  decodeDeadLetter,
} from './queue/dead-letters.js';
export type { NodeTaskOptions } from './queue/node-task-options.js';
export { Queue, type QueueOptions, type RateLimit, rateLimitProblems } from './queue/queue.js';
export { scheduleArgs, type ScheduledTask, type ScheduleTime } from './queue/schedule.js';
export { type DrainOptions, type QueueWork, waitForDrained } from './queue/wait-for-drained.js';
export {
  checkName as checkScheduleName,
  checkScheduleTiming,
  NEVER as NO_NEXT_TICK,
  nextTick,
  type ScheduleBehavior,
  scheduleDefinition,
  type ScheduleDefinition,
  type ScheduleTiming,
} from './schedules/schedule-definition.js';
export { Scheduler, type SchedulerOptions } from './schedules/scheduler.js';
export { type ScheduleChange, type ScheduleInfo, Schedules } from './schedules/schedules.js';
export {
  closeConnection,
  type ClusterConnectionOptions,
  type ConnectionOption,
  connectionProblem,
  describeRedis,
  isCluster,
  openConnection,
  whenReady,
} from './redis/connection.js';
export type { RedisClient } from './redis/client.js';
export { clusterNameProblem, hashTag } from './protocol/hash-tag.js';
export {
  type DurableOptions,
  type DurableSettings,
  resolveDurable,
} from './queue/durable-writes.js';
export { type ResultOptions, TaskHandle } from './tracking/task-handle.js';
export type { TaskState, TaskStatus } from './tracking/task-record.js';
export { type CallOptions, checkCallOptions } from './tracking/tracked-call.js';
export { EventPublisher, type EventPublisherOptions } from './events/event-publisher.js';
export { QUEUE_EVENT_NAMES, type QueueEvent, type QueueEventName } from './events/queue-event.js';
export { QueueEvents, type QueueEventsMap } from './events/queue-events.js';
export { findQueues, type FindQueuesOptions } from './inspect/find-queues.js';
export {
  type Page,
  type QueueCounts,
  QueueInspector,
  type RunningTask,
  type ScheduledEntry,
} from './inspect/queue-inspector.js';
export { summarizeTask, type TaskSummary } from './inspect/task-summary.js';
export { DEAD_LETTERS_PER_REQUEUE_CALL, MAX_DURATION, MAX_INSPECT_PAGE } from './limits.js';
export { requeueLost, requeueLostChecked, type SweepResult } from './maintenance/requeue-lost.js';
export { Sweeper, type SweeperOptions } from './maintenance/sweeper.js';
export { type Backoff, resolveBackoff } from './worker/backoff.js';
export {
  type HandlerEntry,
  HandlerRegistry,
  type HandlerOptions,
  type TaskHandler,
} from './worker/handler-registry.js';
export { currentTask, runInTaskContext, type TaskContext } from './worker/task-context.js';
export type { TaskInstrument, TaskRun } from './worker/task-instrument.js';
export type {
  TaskCompletedEvent,
  TaskEvent,
  TaskFailedEvent,
  TaskProgressEvent,
  TaskStartedEvent,
  WorkerEvents,
  WorkerStateEvent,
} from './worker/worker-events.js';
export { Worker, type WorkerOptions } from './worker/worker.js';
export { DataBatch } from './data/data-batch.js';
export {
  type DataDeadLetter,
  DataDeadLetters,
  decodeDataDeadLetter,
} from './data/data-dead-letters.js';
export {
  MAX_ATTEMPTS as MAX_DATA_ATTEMPTS,
  newItemId as newDataItemId,
} from './data/data-record.js';
export {
  type DataCounts,
  DataQueue,
  type DataQueueOptions,
  MAX_ITEMS_PER_GET,
  resolveDataQueueOptions,
  idList as dataIdList,
  type GetOptions as DataGetOptions,
  type PutOptions as DataPutOptions,
  type RefreshOptions as DataRefreshOptions,
} from './data/data-queue.js';
