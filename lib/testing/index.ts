// The testing API of nestjs-delayed, at 'nestjs-delayed/testing': DelayedModule without Redis
// for unit and integration tests, and a wait for real queues to drain for end-to-end tests.
export { DelayedTestingModule } from './delayed-testing.module.js';
export type { DelayedTestingOptions } from './delayed-testing.options.js';
export { InlineDataQueue } from './inline-data-queue.js';
export { InlineDataDeadLetters } from './inline-data-dead-letters.js';
export { InlineTasks, type InlineTaskFilter, type InlineTaskOf } from './inline-tasks.js';
export type { InlineTask, InlineTaskState } from './inline-task.js';
export type { RunMode } from './inline-runner.js';
export { overrideDelayedModule, type ModuleOverrider } from './override-delayed-module.js';
export { type AppDrainOptions, waitForDrained } from './wait-for-drained.js';
export { DrainTimeoutError, type DrainOptions, type QueueWork } from '../core/index.js';
