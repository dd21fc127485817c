import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { type HandlerRegistry, InvalidHandlerError } from './core/index.js';
import { DELAYED_HANDLERS, DELAYED_RESOLVED_OPTIONS } from './delayed.constants.js';
import type { ResolvedDelayedOptions } from './delayed.options.js';
import { getTaskMetadata } from './task-metadata.accessor.js';

/**
 * Finds `@Task()` methods on every provider of the app and registers each, bound to its
 * instance, in the handler registry. Runs in onModuleInit, before anything is consumed.
 */
@Injectable()
export class DelayedExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    @Inject(DELAYED_HANDLERS) private readonly handlers: HandlerRegistry,
    @Inject(DELAYED_RESOLVED_OPTIONS) private readonly options: ResolvedDelayedOptions,
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
        this.handlers.register(
          metadata.name,
          bound,
          `${type.name}.${method}`,
          metadata.queue ?? this.options.queue,
          { retry: metadata.retry, backoff: metadata.backoff },
        );
      }
    }
  }
}
