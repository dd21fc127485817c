import { DEFAULT_QUEUE_NAME, describeValue, InvalidOptionsError } from '../core/index.js';
import { type DataQueueDefinition, dataQueueDefinitions } from '../data-queue-definition.js';
import type { RunMode } from './inline-runner.js';

/** Options of `DelayedTestingModule.forRoot()`. */
export interface DelayedTestingOptions {
  /** The queue `DelayedQueue` enqueues into, as in `DelayedModule.forRoot`. Default 'default'. */
  queue?: string;
  /** More queues to provide for `@InjectQueue(name)`, as in `DelayedModule.forRoot`. Default none. */
  queues?: string[];
  /**
   * Data queues to provide for `@InjectDataQueue(name)`, as in `DelayedModule.forRoot`: a
   * name, or a name with the queue's options. Each is an `InlineDataQueue`, in memory.
   * Default none.
   */
  dataQueues?: (string | DataQueueDefinition)[];
  /**
   * `immediate` (the default): each task starts by itself on the turn after it was enqueued,
   * as a worker would take it; `await tasks.drain()` waits for them. `manual`: tasks wait
   * until the test calls `drain()` or `runNext()`.
   */
  runMode?: RunMode;
  /**
   * Whether a task whose last attempt fails becomes a dead letter (state `dead`, listed by
   * `DelayedQueue.deadLetters`), as with the real module's default, or is dropped (state
   * `failed`). Default true. Data queues have their own `deadLetter` (in `dataQueues`), as
   * in the real module.
   */
  deadLetter?: boolean;
  /** Whether `DelayedQueue` can be injected everywhere, as in `DelayedModule.forRoot`. Default true. */
  isGlobal?: boolean;
}

/** The options with their defaults. */
export interface ResolvedTestingOptions {
  readonly queue: string;
  readonly queues: readonly string[];
  readonly dataQueues: readonly DataQueueDefinition[];
  readonly runMode: RunMode;
  readonly deadLetter: boolean;
  readonly isGlobal: boolean;
}

const KNOWN = ['queue', 'queues', 'dataQueues', 'runMode', 'deadLetter', 'isGlobal'];

/** Applies the defaults and rejects what cannot work, naming each problem. */
export function resolveTestingOptions(options: DelayedTestingOptions = {}): ResolvedTestingOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionsError(
      `DelayedTestingModule options must be an object, got ${describeValue(options)}`,
    );
  }
  const problems: string[] = [];
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) problems.push(`unknown option ${key} (known: ${KNOWN.join(', ')})`);
  }
  const {
    queue = DEFAULT_QUEUE_NAME,
    queues = [],
    dataQueues = [],
    runMode = 'immediate',
    deadLetter = true,
    isGlobal = true,
  } = options;
  if (typeof queue !== 'string' || queue.length === 0) {
    problems.push(`queue must be a non-empty string, got ${describeValue(queue)}`);
  }
  if (!Array.isArray(queues) || queues.some((name) => typeof name !== 'string' || name === '')) {
    problems.push('queues must be an array of non-empty queue names');
  }
  // The real module's check, so that a list the real module refuses is refused here too.
  let definitions: DataQueueDefinition[] = [];
  try {
    definitions = dataQueueDefinitions(dataQueues);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (runMode !== 'immediate' && runMode !== 'manual') {
    problems.push(`runMode must be 'immediate' or 'manual', got ${describeValue(runMode)}`);
  }
  if (typeof deadLetter !== 'boolean') {
    problems.push(`deadLetter must be true or false, got ${describeValue(deadLetter)}`);
  }
  if (typeof isGlobal !== 'boolean') {
    problems.push(`isGlobal must be true or false, got ${describeValue(isGlobal)}`);
  }
  if (problems.length > 0) {
    throw new InvalidOptionsError(
      `Invalid DelayedTestingModule options:\n- ${problems.join('\n- ')}`,
    );
  }
  return { queue, queues: [...queues], dataQueues: definitions, runMode, deadLetter, isGlobal };
}
