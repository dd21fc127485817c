import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import {
  EventPublisher,
  HandlerRegistry,
  NodeTask,
  Queue,
  type TaskInstrument,
  Worker,
} from '../lib/core/index.js';
import type { DelayedHost } from '../lib/delayed.host.js';
import { resolveOptions } from '../lib/delayed.options.js';
import { DelayedMetrics } from '../lib/metrics/delayed-metrics.js';
import { tracingInstrument } from '../lib/tracing/index.js';
import { silentLogger } from './contenders/contender.js';
import { DroppingExporter } from './contenders/our-instrumentation.js';
import { startBenchRedis } from './redis-server.js';

/**
 * Where the cost of operating pieces goes: a c100 drain of N no-op tasks with each piece of
 * issue 11 on alone, then all together; rounds alternate, medians printed against "off".
 *
 *   node .build/bench/operate-breakdown.js [N] [ROUNDS] [name words, comma-separated]
 */
const N = Number(process.argv[2] ?? 50_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const QUEUE = 'bench-operate';

interface Setup {
  instrument?: TaskInstrument;
  attach?: (worker: Worker, redis: Redis, handlers: HandlerRegistry) => () => void;
  contextManager?: boolean;
}

const sampled = () =>
  tracingInstrument({
    tracerProvider: new BasicTracerProvider({
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.01) }),
      spanProcessors: [new BatchSpanProcessor(new DroppingExporter())],
    }),
  });

const metrics = (worker: Worker, redis: Redis, handlers: HandlerRegistry) => {
  const host = { onWorker: (listener: (made: Worker) => void) => listener(worker) };
  const made = new DelayedMetrics(
    { registry: new Registry() },
    host as unknown as DelayedHost,
    { redis, owned: false },
    resolveOptions({ queue: QUEUE, worker: true }),
    handlers,
  );
  made.onModuleInit();
  made.onApplicationBootstrap();
  return () => made.onModuleDestroy();
};

const publish = (worker: Worker, redis: Redis) => {
  new EventPublisher(redis, { logger: silentLogger }).attach(worker);
  return () => undefined;
};

const listeners = (worker: Worker) => {
  let count = 0;
  worker.on('active', () => count++);
  worker.on('completed', () => count++);
  worker.on('failed', () => count++);
  return () => undefined;
};

const VARIANTS: [string, () => Setup][] = [
  ['off', () => ({})],
  ['3 no-op listeners', () => ({ attach: listeners })],
  ['metrics', () => ({ attach: metrics })],
  ['events published', () => ({ attach: publish })],
  [
    'metrics + events published',
    () => ({
      attach: (worker, redis, handlers) => {
        const undo = metrics(worker, redis, handlers);
        publish(worker, redis);
        return undo;
      },
    }),
  ],
  ['context manager only', () => ({ contextManager: true })],
  ['pass-through instrument', () => ({ instrument: (_run, call) => call() })],
  ['tracing 1 % (+ context manager)', () => ({ instrument: sampled(), contextManager: true })],
  [
    'all (1 % sampled)',
    () => ({
      instrument: sampled(),
      contextManager: true,
      attach: (worker, redis, handlers) => {
        const undo = metrics(worker, redis, handlers);
        publish(worker, redis);
        return undo;
      },
    }),
  ],
];

async function main(): Promise<void> {
  const only = process.argv[4]?.split(',');
  const variants =
    only === undefined
      ? VARIANTS
      : VARIANTS.filter(([name]) => name === 'off' || only.some((word) => name.includes(word)));
  const redis = await startBenchRedis();
  const times = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, make] of variants) {
      await redis.flushAll();
      const client = redis.admin.duplicate();
      const queue = new Queue(client, QUEUE);
      const task = new NodeTask('Bench:noop');
      await queue.enqueueMany(Array.from({ length: N }, () => task));
      const setup = make();
      const manager = setup.contextManager ? new AsyncLocalStorageContextManager() : undefined;
      if (manager) context.setGlobalContextManager(manager.enable());
      const handlers = new HandlerRegistry();
      let done = 0;
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      handlers.register('Bench:noop', () => {
        if (++done === N) finish();
      });
      const worker = new Worker({
        queues: [queue],
        handlers,
        concurrency: 100,
        logger: silentLogger,
        ...(setup.instrument === undefined ? {} : { instrument: setup.instrument }),
      });
      const undo = setup.attach?.(worker, client, handlers);
      const t0 = performance.now();
      await worker.start();
      await finished;
      times.get(name)!.push(performance.now() - t0);
      await worker.close();
      undo?.();
      if (manager) context.disable();
      await client.quit();
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  const base = median(times.get('off')!);
  for (const [name, values] of times) {
    const ms = median(values);
    console.log(
      `${name.padEnd(34)} ${Math.round((N / ms) * 1000)
        .toString()
        .padStart(7)} tasks/s  ${((ms / base - 1) * 100).toFixed(1).padStart(6)} %`,
    );
  }
  await redis.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
