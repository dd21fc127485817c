import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  context,
  propagation,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  currentTask,
  DelayedModule,
  DelayedQueue,
  GoTask,
  InvalidOptionsError,
  NodeTask,
  PyTask,
  Task,
} from '../../lib/index.js';
import {
  decodeTask,
  type DecodedPyTask,
  encodeTask,
  HandlerRegistry,
  Queue,
  RateLimitedError,
  ShutdownDeadlineError,
  type TaskContext,
  TaskTimeoutError,
  UnrecoverableError,
  Worker,
} from '../../lib/core/index.js';
import {
  DelayedTracingModule,
  type DelayedTracingOptions,
  TASK_SPAN_ATTRIBUTES,
  traceContextInjector,
  tracingInstrument,
} from '../../lib/tracing/index.js';
import { failureOutcome } from '../../lib/tracing/tracing-instrument.js';
import { eventually, quietLogger, uniqueName, useRedisServer } from '../helpers/redis-server.js';

const db = useRedisServer();
const exporter = new InMemorySpanExporter();
let provider: BasicTracerProvider;

// One SDK for the whole file, registered the way an app registers its own.
before(() => {
  provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  );
});

after(async () => {
  trace.disable();
  context.disable();
  propagation.disable();
  await provider.shutdown();
});

beforeEach(() => exporter.reset());

const tracer = () => trace.getTracer('test');

/** What the handlers saw, by task. */
const seen = {
  baggage: [] as (string | undefined)[],
};

@Injectable()
class Orders {
  @Task()
  async ship(id: number): Promise<number> {
    seen.baggage.push(propagation.getBaggage(context.active())?.getEntry('tenant')?.value);
    await tracer().startActiveSpan('inner work', async (span) => {
      await sleep(1);
      span.end();
    });
    return id * 2;
  }

  @Task({ retry: 1 })
  broken(): never {
    throw new TypeError('out of stock');
  }
}

async function app(imports: ModuleMetadata['imports'], providers: ModuleMetadata['providers']) {
  const moduleRef = await Test.createTestingModule({ imports, providers }).compile();
  const application = moduleRef.createNestApplication({ logger: false });
  await application.init();
  return application;
}

/** An app that only enqueues, with tracing (unless `tracing` is false). */
function producer(queue: string, tracing: DelayedTracingOptions | false = {}) {
  return app(
    [
      DelayedModule.forRoot({ connection: db.server.url, queue, worker: false }),
      ...(tracing === false ? [] : [DelayedTracingModule.forRoot(tracing)]),
    ],
    [],
  );
}

/** An app that runs the Orders handlers, with tracing. */
function worker(queue: string, tracing: DelayedTracingOptions = {}) {
  return app(
    [
      DelayedModule.forRoot({ connection: db.server.url, queue, worker: { dequeueTimeout: 100 } }),
      DelayedTracingModule.forRoot(tracing),
    ],
    [Orders],
  );
}

/** Runs `work` inside a new active span, which it ends after; returns the span's context. */
async function inSpan(work: () => Promise<unknown>): Promise<SpanContext> {
  return tracer().startActiveSpan('http request', async (span: Span) => {
    try {
      await work();
    } finally {
      span.end();
    }
    return span.spanContext();
  });
}

/** The finished spans of the runs on `queue`. */
function runSpans(queue: string): ReadableSpan[] {
  return exporter
    .getFinishedSpans()
    .filter((span) => span.attributes['messaging.destination.name'] === queue);
}

/** The runs' spans on `queue`, once there are `count`. */
async function finishedRuns(queue: string, count: number): Promise<ReadableSpan[]> {
  await eventually(() => runSpans(queue).length >= count, 10_000, `${count} run span(s)`);
  const spans = runSpans(queue);
  assert.equal(spans.length, count);
  return spans;
}

async function waitingTasks(queue: string): Promise<DecodedPyTask[]> {
  const bytes = await db.redis.lrangeBuffer(queue, 0, -1);
  return bytes.map((task) => decodeTask(task) as DecodedPyTask);
}

async function closeAll(...apps: (INestApplication | undefined)[]): Promise<void> {
  for (const application of apps) await application?.close();
}

describe('DelayedTracingModule', () => {
  it('sends the producer trace context with the task; the run is a CONSUMER span linked to it, parent of the handler spans', async () => {
    const queue = uniqueName('trace');
    const sender = await producer(queue);
    let runner: INestApplication | undefined;
    try {
      const delayed = sender.get(DelayedQueue);
      const baggage = propagation.createBaggage({ tenant: { value: 'acme' } });
      const request = await context.with(propagation.setBaggage(context.active(), baggage), () =>
        inSpan(() => delayed.delay(Orders, 'ship', 21)),
      );
      // The task carries the context as the propagators wrote it, in its fifth element.
      const [task] = await waitingTasks(queue);
      assert.deepEqual(Object.keys(task!.options!), ['trace']);
      const carrier = task!.options!.trace as Record<string, string>;
      assert.equal(
        carrier.traceparent,
        `00-${request.traceId}-${request.spanId}-0${request.traceFlags}`,
      );
      assert.equal(carrier.baggage, 'tenant=acme');

      runner = await worker(queue);
      const [run] = await finishedRuns(queue, 1);
      assert.equal(run!.name, `process ${queue}`);
      assert.equal(run!.kind, SpanKind.CONSUMER);
      assert.equal(run!.instrumentationScope.name, 'nestjs-delayed');
      // Linked, not a child (default): the run starts a trace of its own.
      assert.deepEqual(
        run!.links.map((link) => [link.context.traceId, link.context.spanId]),
        [[request.traceId, request.spanId]],
      );
      assert.equal(run!.parentSpanContext, undefined);
      assert.notEqual(run!.spanContext().traceId, request.traceId);
      assert.deepEqual(run!.attributes, {
        'messaging.system': 'delayed',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': queue,
        'messaging.client.id': run!.attributes['messaging.client.id'],
        'delayed.task.name': 'Orders:ship',
        'delayed.task.retries_left': 0,
        'delayed.task.outcome': 'completed',
      });
      assert.match(String(run!.attributes['messaging.client.id']), /^[0-9a-f]{32}$/);
      assert.equal(run!.status.code, SpanStatusCode.UNSET);
      // The handler's own span is the run's child; the producer's baggage reached it.
      const inner = exporter.getFinishedSpans().find((span) => span.name === 'inner work')!;
      assert.equal(inner.parentSpanContext?.spanId, run!.spanContext().spanId);
      assert.equal(inner.spanContext().traceId, run!.spanContext().traceId);
      assert.deepEqual(seen.baggage.slice(-1), ['acme']);
    } finally {
      await closeAll(runner, sender);
    }
  });

  it('with parent: true, the run is also the child of the producer span', async () => {
    const queue = uniqueName('trace');
    const sender = await producer(queue);
    const runner = await worker(queue, {
      parent: true,
      spanName: (run) => {
        if (run.name === 'Orders:broken') throw new Error('a faulty spanName');
        return `run ${run.name}`;
      },
    });
    try {
      const request = await inSpan(() => sender.get(DelayedQueue).delay(Orders, 'ship', 1));
      const [run] = await finishedRuns(queue, 1);
      assert.equal(run!.name, 'run Orders:ship');
      // A spanName that throws costs the span its name, never the run.
      await sender.get(DelayedQueue).delay(Orders, 'broken');
      const broken = (await finishedRuns(queue, 3)).slice(1);
      assert.deepEqual(
        broken.map((span) => [span.name, span.attributes['error.type']]),
        [
          [`process ${queue}`, 'TypeError'],
          [`process ${queue}`, 'TypeError'],
        ],
      );
      assert.equal(run!.spanContext().traceId, request.traceId);
      assert.equal(run!.parentSpanContext?.spanId, request.spanId);
      assert.equal(run!.links[0]?.context.spanId, request.spanId);
    } finally {
      await closeAll(runner, sender);
    }
  });

  it('gives a failed run status ERROR with the exception, and tells a retried failure from the final one', async () => {
    const queue = uniqueName('trace');
    const sender = await producer(queue);
    const runner = await worker(queue);
    try {
      const request = await inSpan(() => sender.get(DelayedQueue).delay(Orders, 'broken'));
      const runs = await finishedRuns(queue, 2);
      assert.deepEqual(
        runs.map((run) => [
          run.attributes[TASK_SPAN_ATTRIBUTES.retriesLeft],
          run.attributes[TASK_SPAN_ATTRIBUTES.outcome],
        ]),
        [
          [1, 'retried'],
          [0, 'failed'],
        ],
      );
      for (const run of runs) {
        assert.deepEqual(run.status, { code: SpanStatusCode.ERROR, message: 'out of stock' });
        assert.equal(run.attributes['error.type'], 'TypeError');
        const [exception] = run.events;
        assert.equal(exception?.name, 'exception');
        assert.equal(exception?.attributes?.['exception.type'], 'TypeError');
        assert.equal(exception?.attributes?.['exception.message'], 'out of stock');
        // The retry still carries the producer's context.
        assert.equal(run.links[0]?.context.spanId, request.spanId);
      }
    } finally {
      await closeAll(runner, sender);
    }
  });

  it('sends nothing for a task enqueued with no active span, and its run has no link', async () => {
    const queue = uniqueName('trace');
    const sender = await producer(queue);
    let runner: INestApplication | undefined;
    try {
      await sender.get(DelayedQueue).delay(Orders, 'ship', 3);
      const bytes = await db.redis.lrangeBuffer(queue, 0, -1);
      assert.deepEqual(bytes, [encodeTask(new NodeTask('Orders:ship', [3]))]);
      runner = await worker(queue);
      const [run] = await finishedRuns(queue, 1);
      assert.deepEqual(run!.links, []);
      assert.equal(run!.parentSpanContext, undefined);
    } finally {
      await closeAll(runner, sender);
    }
  });

  it('leaves the task bytes exactly the peers layout when the module is not imported', async () => {
    const queue = uniqueName('trace');
    const sender = await producer(queue, false);
    try {
      const delayed = sender.get(DelayedQueue);
      await inSpan(async () => {
        await delayed.delay(Orders, 'ship', 5);
        await delayed.enqueue(new NodeTask('Orders:ship', [6], {}, 2));
      });
      assert.deepEqual(await db.redis.lrangeBuffer(queue, 0, -1), [
        encodeTask(new NodeTask('Orders:ship', [5])),
        encodeTask(new NodeTask('Orders:ship', [6], {}, 2)),
      ]);
    } finally {
      await sender.close();
    }
  });

  it('never gives a PyTask or a GoTask a trace context (their workers cannot read a fifth element)', async () => {
    const queue = uniqueName('trace');
    const sender = await producer(queue);
    try {
      const delayed = sender.get(DelayedQueue);
      const py = new PyTask('billing.tasks:charge', [42], { currency: 'EUR' }, 3);
      const go = new GoTask('main.Charge', [42]);
      await inSpan(async () => {
        await delayed.enqueue(py);
        await delayed.enqueueMany([go, py]);
        await delayed.with({ delay: 60_000 }).enqueue(py);
      });
      assert.deepEqual(await db.redis.lrangeBuffer(queue, 0, -1), [
        encodeTask(py),
        encodeTask(go),
        encodeTask(py),
      ]);
      const [member] = await db.redis.zrangeBuffer(`${queue}_scheduled`, 0, -1);
      assert.deepEqual(member!.subarray(16), encodeTask(py));
    } finally {
      await sender.close();
    }
  });

  it('sends both the id and the trace context of a tracked call(), which still works', async () => {
    const queue = uniqueName('trace');
    const sender = await producer(queue);
    let runner: INestApplication | undefined;
    try {
      const delayed = sender.get(DelayedQueue);
      let handle!: Awaited<ReturnType<typeof delayed.call<Orders, 'ship'>>>;
      const request = await inSpan(async () => {
        handle = await delayed.call(Orders, 'ship', 4);
      });
      const [task] = await waitingTasks(queue);
      assert.equal(task!.options!.id, handle.id);
      assert.match(String((task!.options!.trace as Record<string, string>).traceparent), /^00-/);

      runner = await worker(queue);
      assert.equal(await handle.result({ timeout: 5_000 }), 8);
      const [run] = await finishedRuns(queue, 1);
      assert.equal(run!.attributes['messaging.message.id'], handle.id);
      assert.equal(run!.links[0]?.context.spanId, request.spanId);
    } finally {
      await closeAll(runner, sender);
    }
  });

  it('sends the context only for the tasks propagate accepts, or none with propagate: false', async () => {
    const queue = uniqueName('trace');
    const filtered = await producer(queue, {
      propagate: (task, name) => task.name === 'Orders:ship' && name === queue,
    });
    const off = await producer(queue, { propagate: false });
    try {
      await inSpan(async () => {
        await filtered.get(DelayedQueue).delay(Orders, 'ship', 1);
        await filtered.get(DelayedQueue).delay(Orders, 'broken');
        await off.get(DelayedQueue).delay(Orders, 'ship', 1);
      });
      assert.deepEqual(
        (await waitingTasks(queue)).map((task) => [task.funcPath, task.options !== undefined]),
        [
          ['Orders:ship', true],
          ['Orders:broken', false],
          ['Orders:ship', false],
        ],
      );
    } finally {
      await closeAll(filtered, off);
    }
  });

  it('carries the context of each task of a batch: same-turn enqueues from different spans', async () => {
    const queue = uniqueName('trace');
    const sender = await producer(queue);
    try {
      const delayed = sender.get(DelayedQueue);
      const contexts: SpanContext[] = [];
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 3; i++) {
        tracer().startActiveSpan(`request ${i}`, (span) => {
          contexts.push(span.spanContext());
          writes.push(delayed.delay(Orders, 'ship', i));
          span.end();
        });
      }
      await Promise.all(writes);
      assert.deepEqual(
        (await waitingTasks(queue)).map(
          (task) => (task.options!.trace as Record<string, string>).traceparent!.split('-')[2],
        ),
        contexts.map((span) => span.spanId),
      );
    } finally {
      await sender.close();
    }
  });

  it('rejects options it does not know or cannot use, naming each', async () => {
    const bad = { propagate: 'yes', parent: 1, tracerName: '', sampler: true } as unknown;
    const named = (error: unknown) =>
      error instanceof InvalidOptionsError &&
      /unknown option sampler/.test(error.message) &&
      /propagate must be true, false or a function/.test(error.message) &&
      /parent must be true or false/.test(error.message) &&
      /tracerName must be a non-empty string/.test(error.message);
    // forRoot() checks them where they are written; forRootAsync() once they are made.
    assert.throws(() => DelayedTracingModule.forRoot(bad as DelayedTracingOptions), named);
    await assert.rejects(
      Test.createTestingModule({
        imports: [
          DelayedTracingModule.forRootAsync({ useFactory: () => bad as DelayedTracingOptions }),
        ],
      }).compile(),
      named,
    );
    assert.throws(
      () => tracingInstrument({ spanName: 'run' } as unknown as DelayedTracingOptions),
      /Invalid tracing options: spanName must be a function/,
    );
  });

  it('says so when the app has no DelayedModule to trace', async () => {
    await assert.rejects(
      app([DelayedTracingModule.forRoot()], []),
      /DelayedTracingModule traces DelayedModule, which this app does not import/,
    );
  });
});

describe('tracing without Nest (nestjs-delayed/core)', () => {
  it('traceContextInjector() and tracingInstrument() trace a plain Queue and Worker; a span ends at the attempt timeout', async () => {
    const name = uniqueName('trace');
    const queue = new Queue(db.redis, name, { nodeTaskOptions: traceContextInjector() });
    const handlers = new HandlerRegistry();
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    handlers.register('Jobs:hang', () => stuck, 'Jobs.hang', undefined, { timeout: 100 });
    handlers.register('Jobs:check', () => {
      assert.equal(trace.getActiveSpan()?.spanContext().spanId !== undefined, true);
      return currentTask()!.name;
    });
    const engine = new Worker({
      queues: [new Queue(db.redis, name)],
      handlers,
      logger: quietLogger,
      dequeueTimeout: 100,
      instrument: tracingInstrument({ tracerName: 'jobs' }),
    });
    await engine.start();
    try {
      const request = await inSpan(async () => {
        await queue.enqueue(new NodeTask('Jobs:check'));
        await queue.enqueue(new NodeTask('Jobs:hang'));
      });
      // The hung handler ignores its signal: its span still ends when the attempt times out.
      const spans = await finishedRuns(name, 2);
      const byName = (task: string) =>
        spans.find((span) => span.attributes['delayed.task.name'] === task)!;
      assert.equal(byName('Jobs:check').attributes['delayed.task.outcome'], 'completed');
      assert.equal(byName('Jobs:check').instrumentationScope.name, 'jobs');
      const hung = byName('Jobs:hang');
      assert.equal(hung.status.code, SpanStatusCode.ERROR);
      assert.equal(hung.attributes['error.type'], 'TaskTimeoutError');
      assert.equal(hung.attributes['delayed.task.outcome'], 'failed');
      for (const span of spans) assert.equal(span.links[0]?.context.spanId, request.spanId);
    } finally {
      release();
      await engine.close();
    }
  });

  it('is a no-op with no SDK registered: nothing travels, handlers run as before', async () => {
    // A producer and a worker made while no SDK is registered (the globals are put back after).
    trace.disable();
    context.disable();
    propagation.disable();
    const name = uniqueName('trace');
    const queue = new Queue(db.redis, name, { nodeTaskOptions: traceContextInjector() });
    const handlers = new HandlerRegistry();
    const ran: unknown[] = [];
    handlers.register('Jobs:echo', (value: unknown) => {
      ran.push(value);
      assert.equal(trace.getActiveSpan()?.isRecording() ?? false, false);
    });
    const engine = new Worker({
      queues: [new Queue(db.redis, name)],
      handlers,
      logger: quietLogger,
      dequeueTimeout: 100,
      instrument: tracingInstrument(),
    });
    try {
      await trace.getTracer('test').startActiveSpan('request', async (span) => {
        await queue.enqueue(new NodeTask('Jobs:echo', ['hi']));
        span.end();
      });
      assert.deepEqual(await db.redis.lrangeBuffer(name, 0, -1), [
        encodeTask(new NodeTask('Jobs:echo', ['hi'])),
      ]);
      await engine.start();
      await eventually(() => ran.length === 1);
      assert.deepEqual(ran, ['hi']);
    } finally {
      await engine.close();
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      trace.setGlobalTracerProvider(provider);
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    }
    assert.equal(exporter.getFinishedSpans().length, 0);
  });
});

describe('failureOutcome', () => {
  const contextWith = (retriesLeft: number, reason?: unknown): TaskContext => {
    const controller = new AbortController();
    if (reason !== undefined) controller.abort(reason);
    return {
      queue: 'q',
      name: 'T:x',
      workerId: 'w',
      retriesLeft,
      signal: controller.signal,
      id: undefined,
      progress: () => Promise.resolve(),
    };
  };

  it('tells what the worker does with a failed attempt', () => {
    const error = new Error('boom');
    assert.equal(failureOutcome(error, contextWith(2)), 'retried');
    assert.equal(failureOutcome(error, contextWith(-1)), 'retried');
    assert.equal(failureOutcome(error, contextWith(0)), 'failed');
    assert.equal(failureOutcome(new UnrecoverableError('no'), contextWith(3)), 'failed');
    assert.equal(failureOutcome(new RateLimitedError(1_000), contextWith(0)), 'retried');
    const deadline = new ShutdownDeadlineError('deadline');
    assert.equal(failureOutcome(error, contextWith(0, deadline)), 'interrupted');
    assert.equal(failureOutcome(error, contextWith(2, new TaskTimeoutError('slow'))), 'retried');
    assert.equal(failureOutcome(error, undefined), 'failed');
  });
});
