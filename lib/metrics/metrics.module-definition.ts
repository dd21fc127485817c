import { ConfigurableModuleBuilder, type DynamicModule } from '@nestjs/common';
import { describeValue, InvalidOptionsError } from '../core/index.js';
import { DelayedMetrics } from './delayed-metrics.js';
import { metricsController } from './metrics.controller.js';
import { DELAYED_METRICS_OPTIONS } from './metrics.constants.js';
import type { DelayedMetricsExtras, DelayedMetricsOptions } from './metrics.options.js';

export const {
  ConfigurableModuleClass: ConfigurableMetricsModule,
  OPTIONS_TYPE: DELAYED_METRICS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: DELAYED_METRICS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<DelayedMetricsOptions>({
  moduleName: 'DelayedMetrics',
  optionsInjectionToken: DELAYED_METRICS_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createDelayedMetricsOptions')
  .setExtras<DelayedMetricsExtras>(
    { path: undefined },
    (definition: DynamicModule, extras: DelayedMetricsExtras): DynamicModule => ({
      ...definition,
      providers: [...(definition.providers ?? []), DelayedMetrics],
      exports: [...(definition.exports ?? []), DelayedMetrics],
      controllers: [
        ...(definition.controllers ?? []),
        ...(extras.path === undefined ? [] : [metricsController(checkPath(extras.path))]),
      ],
    }),
  )
  .build();

function checkPath(path: unknown): string {
  if (typeof path !== 'string' || path.trim() === '') {
    throw new InvalidOptionsError(
      `DelayedMetricsModule: path must be a route such as '/metrics', got ${describeValue(path)}`,
    );
  }
  return path;
}
