import { ConfigurableModuleBuilder, type DynamicModule } from '@nestjs/common';
import { DELAYED_MODULE_OPTIONS } from './delayed.constants.js';
import type { DataQueueDefinition } from './data-queue-definition.js';
import type { DelayedModuleOptions } from './delayed.options.js';
import { dataQueueExports, dataQueueProviders } from './data-queue.providers.js';
import { delayedExports, delayedProviders } from './delayed.providers.js';

/** Settings that shape the module's providers, so they are given beside the options, also in forRootAsync. */
export interface DelayedModuleExtras {
  /** More queues to provide for `@InjectQueue(name)`. */
  queues?: string[];
  /**
   * Data queues to provide for `@InjectDataQueue(name)`: a name, or a name with the queue's
   * options (visibilityTimeout, attempts, deadLetter, redisTimeout). Default none.
   */
  dataQueues?: (string | DataQueueDefinition)[];
  /** Whether `DelayedQueue` can be injected everywhere without importing the module again. Default true. */
  isGlobal?: boolean;
}

export const {
  ConfigurableModuleClass,
  OPTIONS_TYPE: DELAYED_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: DELAYED_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<DelayedModuleOptions>({
  moduleName: 'Delayed',
  optionsInjectionToken: DELAYED_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createDelayedOptions')
  .setExtras<DelayedModuleExtras>(
    { queues: [], dataQueues: [], isGlobal: true },
    (definition: DynamicModule, extras: DelayedModuleExtras): DynamicModule => ({
      ...definition,
      global: extras.isGlobal ?? true,
      providers: [
        ...(definition.providers ?? []),
        ...delayedProviders(DELAYED_MODULE_OPTIONS, extras.queues ?? []),
        ...dataQueueProviders(extras.dataQueues ?? []),
      ],
      exports: [
        ...(definition.exports ?? []),
        ...delayedExports(extras.queues ?? []),
        ...dataQueueExports(extras.dataQueues ?? []),
      ],
    }),
  )
  .build();
