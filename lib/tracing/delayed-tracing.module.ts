import { type DynamicModule, Inject, Module, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DelayedError, type NodeTaskOptions, type TaskInstrument } from '../core/index.js';
import { DELAYED_NODE_TASK_OPTIONS } from '../delayed.constants.js';
import { DelayedHost } from '../delayed.host.js';
import {
  ConfigurableTracingModule,
  DELAYED_TRACING_OPTIONS,
  type DELAYED_TRACING_OPTIONS_TYPE,
} from './delayed-tracing.module-definition.js';
import { traceContextInjector } from './trace-context-injector.js';
import { type DelayedTracingOptions, resolveTracingOptions } from './tracing.options.js';
import { tracingInstrument } from './tracing-instrument.js';

/** Token of the module's options, checked, with the defaults applied. */
const RESOLVED_TRACING_OPTIONS = Symbol('nestjs-delayed:resolved-tracing-options');
/** Token of the hook that makes each run a span. */
const TRACING_INSTRUMENT = Symbol('nestjs-delayed:tracing-instrument');

/**
 * OpenTelemetry tracing for DelayedModule: the NodeTasks this app enqueues carry the active
 * trace context, and each run of a task in this app's worker is a span linked to it. Import
 * it beside DelayedModule, in producers and workers alike; register your OpenTelemetry SDK
 * before the app starts. It is global: one import serves every module.
 *
 * ```ts
 * @Module({
 *   imports: [
 *     DelayedModule.forRoot({ connection: 'redis://localhost:6379', worker: true }),
 *     DelayedTracingModule.forRoot(),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
@Module({
  providers: [
    {
      provide: RESOLVED_TRACING_OPTIONS,
      useFactory: (options: DelayedTracingOptions | undefined) => resolveTracingOptions(options),
      inject: [DELAYED_TRACING_OPTIONS],
    },
    {
      // DelayedModule's queues inject it (optional); undefined when propagation is off, so
      // their tasks are then written exactly as without this module.
      provide: DELAYED_NODE_TASK_OPTIONS,
      useFactory: ({
        propagate,
      }: ReturnType<typeof resolveTracingOptions>): NodeTaskOptions | undefined =>
        propagate === false
          ? undefined
          : traceContextInjector(propagate === true ? undefined : propagate),
      inject: [RESOLVED_TRACING_OPTIONS],
    },
    {
      provide: TRACING_INSTRUMENT,
      useFactory: ({ propagate: _, ...span }: ReturnType<typeof resolveTracingOptions>) =>
        tracingInstrument(span),
      inject: [RESOLVED_TRACING_OPTIONS],
    },
  ],
  exports: [DELAYED_NODE_TASK_OPTIONS],
})
export class DelayedTracingModule extends ConfigurableTracingModule implements OnModuleInit {
  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(TRACING_INSTRUMENT) private readonly instrument: TaskInstrument,
  ) {
    super();
  }

  /**
   * `forRoot()` with every option at its default, or with the options given, checked here
   * (where a mistake is written) rather than once the app starts.
   */
  static override forRoot(options: typeof DELAYED_TRACING_OPTIONS_TYPE = {}): DynamicModule {
    resolveTracingOptions(options);
    return super.forRoot(options);
  }

  /** Every DelayedModule's worker in this app runs its handlers inside a span. */
  onModuleInit(): void {
    let hosts: DelayedHost[];
    try {
      hosts = this.moduleRef.get(DelayedHost, { strict: false, each: true });
    } catch (error) {
      throw new DelayedError(
        'DelayedTracingModule traces DelayedModule, which this app does not import: import DelayedModule.forRoot() (or forRootAsync()) too',
        { cause: error },
      );
    }
    for (const host of hosts) host.addInstrument(this.instrument);
  }
}
