import { diag, type TracerProvider } from '@opentelemetry/api';
import { describeValue, InvalidOptionsError, type NodeTask, type TaskRun } from '../core/index.js';

/** Which NodeTasks carry the producer's trace context: true for a task that should. */
export type TracePropagationFilter = (task: NodeTask, queue: string) => boolean;

/** How each run of a task becomes a span (see tracingInstrument). */
export interface TaskSpanOptions {
  /**
   * Make the producer's span the parent of the run's span too, so both sit in one trace.
   * The run's span is always linked to it. Default false: each run starts a trace of its
   * own (a task may run hours after it was enqueued, and once per retry), linked to the
   * producer's, as the OpenTelemetry messaging conventions recommend.
   */
  readonly parent?: boolean;
  /** The name of the tracer that makes the spans. Default 'nestjs-delayed'. */
  readonly tracerName?: string;
  /** The TracerProvider to use. Default: the global one (what your SDK registered). */
  readonly tracerProvider?: TracerProvider;
  /** The span's name. Default `process <queue>` (the messaging conventions' `{operation} {destination}`). */
  readonly spanName?: (task: TaskRun) => string;
}

/** Options of `DelayedTracingModule.forRoot()`. */
export interface DelayedTracingOptions extends TaskSpanOptions {
  /**
   * Whether NodeTasks this app enqueues carry the active trace context (true), none do
   * (false), or only those a filter accepts. Default true. PyTasks and GoTasks never do.
   */
  readonly propagate?: boolean | TracePropagationFilter;
}

/** TaskSpanOptions with every default applied. */
export interface ResolvedTaskSpanOptions {
  readonly parent: boolean;
  readonly tracerName: string;
  readonly tracerProvider: TracerProvider | undefined;
  readonly spanName: (task: TaskRun) => string;
}

export const DEFAULT_TRACER_NAME = 'nestjs-delayed';

/** The default span name: the messaging conventions' `{operation} {destination}`. */
export function defaultSpanName(task: TaskRun): string {
  return `process ${task.queue}`;
}

const SPAN_KEYS = ['parent', 'tracerName', 'tracerProvider', 'spanName'];
const MODULE_KEYS = ['propagate', ...SPAN_KEYS];

/** Applies the defaults; `problems` collects what is wrong. */
function resolveSpanOptions(options: TaskSpanOptions, problems: string[]): ResolvedTaskSpanOptions {
  const { parent = false, tracerName = DEFAULT_TRACER_NAME, tracerProvider, spanName } = options;
  if (typeof parent !== 'boolean') {
    problems.push(`parent must be true or false, got ${describeValue(parent)}`);
  }
  if (typeof tracerName !== 'string' || tracerName.length === 0) {
    problems.push(`tracerName must be a non-empty string, got ${describeValue(tracerName)}`);
  }
  if (
    tracerProvider !== undefined &&
    (tracerProvider === null || typeof tracerProvider.getTracer !== 'function')
  ) {
    problems.push('tracerProvider must be a TracerProvider (an object with getTracer())');
  }
  if (spanName !== undefined && typeof spanName !== 'function') {
    problems.push('spanName must be a function (task) => string');
  }
  return {
    parent,
    tracerName,
    tracerProvider,
    spanName: typeof spanName === 'function' ? guardedSpanName(spanName) : defaultSpanName,
  };
}

/** A span name of yours that throws costs its span the name, never the task its run. */
function guardedSpanName(spanName: (task: TaskRun) => string): (task: TaskRun) => string {
  return (task) => {
    try {
      return String(spanName(task));
    } catch (error) {
      diag.warn('nestjs-delayed: spanName threw; the default span name is used', error);
      return defaultSpanName(task);
    }
  };
}

/** Checks span options and applies the defaults; throws an InvalidOptionsError naming each problem. */
export function resolveTaskSpanOptions(options: TaskSpanOptions = {}): ResolvedTaskSpanOptions {
  const problems = checkObject(options, SPAN_KEYS, 'tracing options');
  const resolved = resolveSpanOptions(options ?? {}, problems);
  throwIfAny('tracing options', problems);
  return resolved;
}

/** Checks the module's options; throws an InvalidOptionsError naming each problem. */
export function resolveTracingOptions(
  options: DelayedTracingOptions = {},
): ResolvedTaskSpanOptions & { readonly propagate: boolean | TracePropagationFilter } {
  const problems = checkObject(options, MODULE_KEYS, 'DelayedTracingModule options');
  const given = options ?? {};
  const propagate = given.propagate ?? true;
  if (typeof propagate !== 'boolean' && typeof propagate !== 'function') {
    problems.push(
      `propagate must be true, false or a function (task, queue) => boolean, got ${describeValue(propagate)}`,
    );
  }
  const resolved = resolveSpanOptions(given, problems);
  throwIfAny('DelayedTracingModule options', problems);
  return { ...resolved, propagate };
}

function checkObject(options: unknown, known: string[], what: string): string[] {
  if (options === undefined) return [];
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidOptionsError(`${what} must be an object, got ${describeValue(options)}`);
  }
  return Object.keys(options)
    .filter((key) => !known.includes(key))
    .map((key) => `unknown option ${key} (known: ${known.join(', ')})`);
}

function throwIfAny(what: string, problems: string[]): void {
  if (problems.length === 1) throw new InvalidOptionsError(`Invalid ${what}: ${problems[0]}`);
  if (problems.length > 1) {
    throw new InvalidOptionsError(`Invalid ${what}:\n- ${problems.join('\n- ')}`);
  }
}
