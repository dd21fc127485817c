import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import {
  type HandlerRegistry,
  InvalidHandlerError,
  NodeTask,
  type ScheduleTiming,
} from './core/index.js';
import {
  DELAYED_DECLARED_SCHEDULES,
  DELAYED_HANDLERS,
  DELAYED_RESOLVED_OPTIONS,
} from './delayed.constants.js';
import type { ResolvedDelayedOptions } from './delayed.options.js';
import { getScheduleMetadata, getTaskMetadata } from './task-metadata.accessor.js';

/** A schedule declared in code by `@Every()`/`@Cron()`, as the explorer found it. */
export interface DeclaredSchedule {
  readonly name: string;
  readonly queue: string;
  readonly timing: ScheduleTiming;
  readonly neverSkip: boolean;
  /** The task each tick enqueues (the tick's time is added as its last argument). */
  readonly task: NodeTask;
  /** Where it was declared, e.g. "Reports.weekly". */
  readonly source: string;
}

/**
 * Finds `@Task()` methods on every provider of the app and registers each, bound to its
 * instance, in the handler registry; and the `@Every()`/`@Cron()` schedules among them.
 * Runs in onModuleInit, before anything is consumed.
 */
@Injectable()
export class DelayedExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    @Inject(DELAYED_HANDLERS) private readonly handlers: HandlerRegistry,
    @Inject(DELAYED_RESOLVED_OPTIONS) private readonly options: ResolvedDelayedOptions,
    @Inject(DELAYED_DECLARED_SCHEDULES) private readonly schedules: DeclaredSchedule[],
  ) {}

  onModuleInit(): void {
    const seen = new Set<object>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      const type = instance.constructor;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype || type === Object) continue;
      seen.add(instance);
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const metadata = getTaskMetadata(type, method);
        if (metadata === undefined) continue;
        if (!wrapper.isDependencyTreeStatic()) {
          throw new InvalidHandlerError(
            `${type.name}.${method} has @Task() but ${type.name} is request- or transient-scoped; task handlers must live on singleton providers`,
          );
        }
        const bound = (instance as Record<string, (...args: unknown[]) => unknown>)[method]!.bind(
          instance,
        );
        const source = `${type.name}.${method}`;
        const queue = metadata.queue ?? this.options.queue;
        this.handlers.register(metadata.name, bound, source, queue, {
          retry: metadata.retry,
          backoff: metadata.backoff,
          timeout: metadata.timeout,
        });
        const schedule = getScheduleMetadata(type, method);
        if (schedule !== undefined) this.declare(schedule, metadata, queue, source);
      }
    }
  }

  private declare(
    schedule: NonNullable<ReturnType<typeof getScheduleMetadata>>,
    task: NonNullable<ReturnType<typeof getTaskMetadata>>,
    queue: string,
    source: string,
  ): void {
    const twin = this.schedules.find(
      (known) => known.name === schedule.name && known.queue === queue,
    );
    if (twin !== undefined) {
      throw new InvalidHandlerError(
        `Schedule "${schedule.name}" on queue "${queue}" is declared by both ${twin.source} and ${source}; give one of them another name with { name: '...' }`,
      );
    }
    this.schedules.push({
      name: schedule.name,
      queue,
      timing: schedule.timing,
      neverSkip: schedule.neverSkip,
      task: new NodeTask(task.name, [], {}, task.retry),
      source,
    });
  }
}
