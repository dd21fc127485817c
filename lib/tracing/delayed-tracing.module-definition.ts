import { ConfigurableModuleBuilder, type DynamicModule } from '@nestjs/common';
import type { DelayedTracingOptions } from './tracing.options.js';

/** Token of the options given to DelayedTracingModule.forRoot / made by forRootAsync, as given. */
export const DELAYED_TRACING_OPTIONS = Symbol('nestjs-delayed:tracing-options');

export const {
  ConfigurableModuleClass: ConfigurableTracingModule,
  OPTIONS_TYPE: DELAYED_TRACING_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: DELAYED_TRACING_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<DelayedTracingOptions>({
  moduleName: 'DelayedTracing',
  optionsInjectionToken: DELAYED_TRACING_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createTracingOptions')
  // Always global: DelayedModule's queues, wherever they are provided, find the hook that
  // adds the trace context (an optional global provider), whatever module imports this one.
  .setExtras({}, (definition: DynamicModule): DynamicModule => ({ ...definition, global: true }))
  .build();
