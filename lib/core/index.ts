export { decodeTask, encodeRetry, encodeTask } from './codec.js';
export {
  closeConnection,
  type ConnectionOption,
  describeRedis,
  duplicateConnection,
  openConnection,
  whenReady,
} from './connection.js';
export {
  type DeadLetter,
  type DeadLetterReason,
  DeadLetters,
  decodeDeadLetter,
} from './dead-letters.js';
export * from './defaults.js';
export * from './errors.js';
export { HandlerRegistry, type TaskHandler } from './handler-registry.js';
export { queueKeys, type QueueKeys } from './keys.js';
export { consoleLogger, type DelayedLogger, errorMessage } from './logger.js';
export { decodeMsgpack, encodeMsgpack } from './msgpack.js';
export {
  type DeadLetterOptions,
  Queue,
  type QueueOptions,
  type SweepResult,
} from './queue.js';
export { Sweeper, type SweeperOptions } from './sweeper.js';
export { currentTask, type TaskContext } from './task-context.js';
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
} from './task.js';
export {
  type TaskEvent,
  type TaskFailedEvent,
  Worker,
  type WorkerEvents,
  type WorkerOptions,
} from './worker.js';
export { newWorkerId } from './worker-id.js';
