import { context, propagation, ProxyTracerProvider, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  HandlerRegistry,
  NodeTask,
  Queue,
  type TaskInstrument,
  Worker,
} from '../lib/core/index.js';
import { traceContextInjector, tracingInstrument } from '../lib/tracing/index.js';
import { silentLogger } from './contenders/contender.js';
import { DroppingExporter } from './contenders/our-instrumentation.js';
import { startBenchRedis } from './redis-server.js';

/**
 * The cost of tracing on a worker: a drain of N no-op tasks at concurrency 100 without an
 * instrument, with tracingInstrument() and no SDK (the no-op), and with an SDK that records
 * every span (a BatchSpanProcessor into an exporter that drops them), the tasks carrying a
 * producer's trace context. Rounds alternate; medians are printed.
 *
 *   node .build/bench/tracing-drain.js [N] [ROUNDS]
 */
const N = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 5);

async function main(): Promise<void> {
  const redis = await startBenchRedis();
  const exporter = new DroppingExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 100_000 })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  // A provider with no SDK behind it: what the API hands out when none is registered.
  const noop = tracingInstrument({ tracerProvider: new ProxyTracerProvider() });
  const unsampled = tracingInstrument({
    tracerProvider: new BasicTracerProvider({
      sampler: new AlwaysOffSampler(),
      spanProcessors: [new BatchSpanProcessor(exporter)],
    }),
  });
  trace.setGlobalTracerProvider(provider);
  const recording = tracingInstrument();

  const variants: [string, TaskInstrument | undefined, boolean][] = [
    ['off', undefined, false],
    ['off, traced tasks', undefined, true],
    ['pass-through instrument', (_run, call) => call(), false],
    ['instrument, no SDK', noop, false],
    ['instrument, no SDK, traced tasks', noop, true],
    ['instrument + SDK sampling none', unsampled, false],
    ['instrument + SDK, untraced tasks', recording, false],
    ['instrument + SDK, traced tasks', recording, true],
  ];
  const times = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, instrument, traced] of variants) {
      await redis.flushAll();
      const client = redis.admin.duplicate();
      const queue = new Queue(client, 'bench-trace', {
        nodeTaskOptions: traced ? traceContextInjector() : undefined,
      });
      const task = new NodeTask('Bench:noop');
      const fill = () => queue.enqueueMany(Array.from({ length: N }, () => task));
      if (traced)
        await trace
          .getTracer('bench')
          .startActiveSpan('fill', (span) => fill().finally(() => span.end()));
      else await fill();
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
        instrument,
      });
      const t0 = performance.now();
      await worker.start();
      await finished;
      times.get(name)!.push(performance.now() - t0);
      await worker.close();
      await client.quit();
    }
  }
  await provider.forceFlush();
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  const base = median(times.get('off')!);
  for (const [name, values] of times) {
    const ms = median(values);
    console.log(
      `${name.padEnd(32)} median ${ms.toFixed(0)} ms  ${Math.round((N / ms) * 1000)} tasks/s  ${((ms / base - 1) * 100).toFixed(1)} %  (${values.map((v) => v.toFixed(0)).join(', ')})`,
    );
  }
  console.log(`spans exported: ${exporter.spans}`);
  await provider.shutdown();
  await redis.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
