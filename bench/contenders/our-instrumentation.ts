import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import {
  EventPublisher,
  type HandlerRegistry,
  type RedisClient,
  type TaskInstrument,
  type Worker,
} from '../../lib/core/index.js';
import type { DelayedHost } from '../../lib/delayed.host.js';
import { resolveOptions } from '../../lib/delayed.options.js';
import { DelayedMetrics } from '../../lib/metrics/delayed-metrics.js';
import { tracingInstrument } from '../../lib/tracing/index.js';
import { silentLogger } from './contender.js';

/** Tracing off, or an OpenTelemetry SDK recording 1 % of runs, or every run. */
export type Tracing = 'untraced' | 'sampled' | 'recorded';

/** An exporter that drops what it is given: the cost measured is making spans, not sending them. */
export class DroppingExporter implements SpanExporter {
  /** Spans handed over so far. */
  spans = 0;
  export(spans: ReadableSpan[], done: (result: { code: 0 }) => void): void {
    this.spans += spans.length;
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * What an app with every operating piece of nestjs-delayed on runs beside its worker:
 * DelayedMetricsModule's listeners and metrics (built here without Nest), task events
 * published for other processes, and DelayedTracingModule's span per run with an
 * OpenTelemetry SDK (a context manager, a BatchSpanProcessor, a sampler).
 */
export class OurInstrumentation {
  readonly instrument: TaskInstrument | undefined;
  private readonly provider: BasicTracerProvider | undefined;
  private readonly contextManager = new AsyncLocalStorageContextManager();
  private metrics: DelayedMetrics | undefined;

  constructor(tracing: Tracing) {
    if (tracing === 'untraced') return;
    this.provider = new BasicTracerProvider({
      sampler:
        tracing === 'recorded'
          ? new AlwaysOnSampler()
          : new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.01) }),
      spanProcessors: [new BatchSpanProcessor(new DroppingExporter())],
    });
    context.setGlobalContextManager(this.contextManager.enable());
    this.instrument = tracingInstrument({ tracerProvider: this.provider });
  }

  /** Attaches metrics and the event publisher to a worker before it starts. */
  attach(worker: Worker, redis: RedisClient, queue: string, handlers: HandlerRegistry): void {
    const host = { onWorker: (listener: (made: Worker) => void) => listener(worker) };
    this.metrics = new DelayedMetrics(
      { registry: new Registry() },
      host as unknown as DelayedHost,
      { redis, owned: false },
      resolveOptions({ queue, worker: true }),
      handlers,
    );
    this.metrics.onModuleInit();
    this.metrics.onApplicationBootstrap();
    new EventPublisher(redis, { logger: silentLogger }).attach(worker);
  }

  async close(): Promise<void> {
    this.metrics?.onModuleDestroy();
    if (this.provider === undefined) return;
    await this.provider.shutdown();
    context.disable();
  }
}
