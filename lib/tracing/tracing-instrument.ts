import {
  type Attributes,
  context,
  INVALID_TRACEID,
  isSpanContextValid,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import {
  currentTask,
  errorMessage,
  RateLimitedError,
  ShutdownDeadlineError,
  type TaskContext,
  type TaskInstrument,
  UnrecoverableError,
} from '../core/index.js';
import { carrierGetter, traceCarrierOf } from './trace-carrier.js';
import { resolveTaskSpanOptions, type TaskSpanOptions } from './tracing.options.js';

/** `messaging.system` of every span: the wire protocol's family name. */
export const MESSAGING_SYSTEM = 'delayed';

/** Attributes of a run's span besides the messaging conventions' own. */
export const TASK_SPAN_ATTRIBUTES = {
  /** The handler name (`Class:method`) or function path. */
  name: 'delayed.task.name',
  /** Retries left after this attempt if it fails: 0 for the last one, -1 for "for ever". */
  retriesLeft: 'delayed.task.retries_left',
  /**
   * How the attempt ended: `completed`; `retried` (it failed and runs again: retries were
   * left, or it said it was rate limited); `failed` (it failed for good: no retry left, or an
   * UnrecoverableError); `interrupted` (the worker's shutdown deadline stopped it, and a
   * sweeper runs it again).
   */
  outcome: 'delayed.task.outcome',
} as const;

/** How a run ended, as its span's `delayed.task.outcome` says. */
export type TaskRunOutcome = 'completed' | 'retried' | 'failed' | 'interrupted';

/**
 * The worker side of tracing, for a Worker's `instrument`: each run of a task is a span of
 * kind CONSUMER, named `process <queue>`, active while the handler runs (the spans the
 * handler makes are its children), linked to the span that was active where the task was
 * enqueued (the `trace` in its options map; see traceContextInjector) and, with
 * `parent: true`, its child. A failed run's span has status ERROR, the exception recorded,
 * and `delayed.task.outcome` telling a retried failure from a final one. With no SDK
 * registered every span is a no-op.
 *
 * ```ts
 * const worker = new Worker({ queues, handlers, instrument: tracingInstrument() });
 * ```
 */
export function tracingInstrument(options?: TaskSpanOptions): TaskInstrument {
  const { parent, tracerName, tracerProvider, spanName } = resolveTaskSpanOptions(options);
  const tracer = (tracerProvider ?? trace.getTracerProvider()).getTracer(tracerName);
  return (run, call) => {
    const task = currentTask();
    const carrier = traceCarrierOf(run.options);
    // Nothing of the worker's own context leaks in: a run starts from the producer's, or afresh.
    const producer =
      carrier === undefined
        ? ROOT_CONTEXT
        : propagation.extract(ROOT_CONTEXT, carrier, carrierGetter);
    const producerSpan = carrier === undefined ? undefined : trace.getSpanContext(producer);
    const links: Link[] | undefined =
      producerSpan !== undefined && isSpanContextValid(producerSpan)
        ? [{ context: producerSpan }]
        : undefined;
    const attributes: Attributes = {
      'messaging.system': MESSAGING_SYSTEM,
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': run.queue,
      'messaging.client.id': run.workerId,
      [TASK_SPAN_ATTRIBUTES.name]: run.name,
    };
    if (run.id !== undefined) attributes['messaging.message.id'] = run.id;
    if (task !== undefined) attributes[TASK_SPAN_ATTRIBUTES.retriesLeft] = task.retriesLeft;
    const span = tracer.startSpan(
      spanName(run),
      { kind: SpanKind.CONSUMER, attributes, links, root: !parent },
      producer,
    );
    // No SDK (a no-op span with no trace id) and nothing brought along: nothing to make
    // current either, so the handler runs as it would without tracing.
    if (carrier === undefined && span.spanContext().traceId === INVALID_TRACEID) return call();
    // The producer's baggage stays current in the handler, whether or not its span is the parent.
    const active = trace.setSpan(producer, span);
    let result: unknown;
    try {
      result = context.with(active, call);
    } catch (error) {
      endFailed(span, error, task);
      throw error;
    }
    if (!isPromiseLike(result)) {
      endCompleted(span);
      return result;
    }
    // The span ends with the attempt as the worker sees it: when the handler settles, or
    // when its signal aborts first (its timeout, the shutdown deadline), since a handler
    // that ignores its signal may never settle.
    let ended = false;
    const signal = task?.signal;
    const onAbort = (): void => {
      ended = true;
      endFailed(span, signal!.reason, task);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    result.then(
      () => {
        signal?.removeEventListener('abort', onAbort);
        if (!ended) endCompleted(span);
      },
      (error: unknown) => {
        signal?.removeEventListener('abort', onAbort);
        if (!ended) endFailed(span, error, task);
      },
    );
    return result;
  };
}

function endCompleted(span: Span): void {
  span.setAttribute(TASK_SPAN_ATTRIBUTES.outcome, 'completed');
  span.end();
}

function endFailed(span: Span, error: unknown, task: TaskContext | undefined): void {
  span.setAttribute(TASK_SPAN_ATTRIBUTES.outcome, failureOutcome(error, task));
  span.setAttribute('error.type', errorType(error));
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
  span.end();
}

/** What the worker does with a failed attempt (see TaskRunner.fail), as far as a hook can tell. */
export function failureOutcome(error: unknown, task: TaskContext | undefined): TaskRunOutcome {
  const signal = task?.signal;
  if (signal?.aborted === true && signal.reason instanceof ShutdownDeadlineError) {
    return 'interrupted';
  }
  if (error instanceof RateLimitedError) return 'retried';
  if (error instanceof UnrecoverableError) return 'failed';
  return task === undefined || task.retriesLeft === 0 ? 'failed' : 'retried';
}

/** The error's class name (`error.type`), or its type when something else was thrown. */
function errorType(error: unknown): string {
  if (error instanceof Error) return error.constructor?.name || error.name;
  return error === null ? 'null' : typeof error;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
