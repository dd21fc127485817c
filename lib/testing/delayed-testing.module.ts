import { type DynamicModule, Logger, Module, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { HandlerRegistry } from '../core/index.js';
import {
  DELAYED_DECLARED_SCHEDULES,
  DELAYED_HANDLERS,
  DELAYED_RESOLVED_OPTIONS,
  getDataQueueToken,
  getQueueToken,
} from '../delayed.constants.js';
import { type DeclaredSchedule, DelayedExplorer } from '../delayed.explorer.js';
import { DelayedQueue } from '../delayed-queue.js';
import { resolveOptions } from '../delayed.options.js';
import { type DelayedTestingOptions, resolveTestingOptions } from './delayed-testing.options.js';
import { InlineDataQueue } from './inline-data-queue.js';
import { InlineDelayedQueue } from './inline-delayed-queue.js';
import { InlineRunner } from './inline-runner.js';
import { InlineTasks } from './inline-tasks.js';

/**
 * DelayedModule for tests, without Redis: it provides the same `DelayedQueue` (and the
 * `@InjectQueue(name)` queues) to app code, finds the `@Task()` handlers as the real module
 * does, and runs every task in this process, in its handler's task context. `InlineTasks`
 * shows the test what was enqueued and what became of it. The `@InjectDataQueue(name)` data
 * queues are `InlineDataQueue`s, in memory.
 *
 * ```ts
 * const moduleRef = await Test.createTestingModule({
 *   imports: [DelayedTestingModule.forRoot(), SignupModule],
 * }).compile();
 * await moduleRef.init();   // finds the handlers; tasks start from here
 * const tasks = moduleRef.get(InlineTasks);
 * ```
 */
@Module({})
export class DelayedTestingModule {
  static forRoot(options: DelayedTestingOptions = {}): DynamicModule {
    const { queue, queues, dataQueues, runMode, deadLetter, isGlobal } =
      resolveTestingOptions(options);
    const named = [...new Set(queues)];
    const inlineQueue = (token: string | typeof DelayedQueue, name: string): Provider => ({
      provide: token,
      useFactory: (runner: InlineRunner) => new InlineDelayedQueue(runner, name),
      inject: [InlineRunner],
    });
    return {
      module: DelayedTestingModule,
      global: isGlobal,
      imports: [DiscoveryModule],
      providers: [
        // What the real module's explorer reads: it runs here unchanged.
        { provide: DELAYED_RESOLVED_OPTIONS, useValue: resolveOptions({ queue }, named) },
        { provide: DELAYED_HANDLERS, useFactory: () => new HandlerRegistry() },
        { provide: DELAYED_DECLARED_SCHEDULES, useFactory: (): DeclaredSchedule[] => [] },
        DelayedExplorer,
        {
          provide: InlineRunner,
          useFactory: (handlers: HandlerRegistry) =>
            new InlineRunner({
              runMode,
              deadLetter,
              handlers,
              logger: new Logger('DelayedTesting'),
            }),
          inject: [DELAYED_HANDLERS],
        },
        {
          provide: InlineTasks,
          useFactory: (runner: InlineRunner, declared: DeclaredSchedule[]) =>
            new InlineTasks(runner, queue, declared),
          inject: [InlineRunner, DELAYED_DECLARED_SCHEDULES],
        },
        inlineQueue(DelayedQueue, queue),
        ...named.map((name) => inlineQueue(getQueueToken(name), name)),
        // As in the real module, a data queue has its own deadLetter default: the module's
        // is about tasks.
        ...dataQueues.map(({ name, ...dataOptions }): Provider => ({
          provide: getDataQueueToken(name),
          useFactory: () => new InlineDataQueue(name, dataOptions),
        })),
      ],
      exports: [
        DelayedQueue,
        InlineTasks,
        ...named.map(getQueueToken),
        ...dataQueues.map(({ name }) => getDataQueueToken(name)),
      ],
    };
  }
}
