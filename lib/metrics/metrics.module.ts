import { type DynamicModule, Module } from '@nestjs/common';
import {
  ConfigurableMetricsModule,
  DELAYED_METRICS_OPTIONS_TYPE,
} from './metrics.module-definition.js';
import { resolveMetricsOptions } from './metrics.options.js';

/**
 * Prometheus metrics of the queue, through prom-client (install it: it is an optional peer).
 * Needs DelayedModule (global by default) in the app.
 *
 * ```ts
 * @Module({
 *   imports: [
 *     DelayedModule.forRoot({ connection: 'redis://localhost:6379', worker: true }),
 *     DelayedMetricsModule.forRoot({ path: '/metrics' }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
@Module({})
export class DelayedMetricsModule extends ConfigurableMetricsModule {
  /** Options given here are checked at once, before the app opens any connection. */
  static override forRoot(options: typeof DELAYED_METRICS_OPTIONS_TYPE = {}): DynamicModule {
    const { path: _, ...settings } = options;
    resolveMetricsOptions(settings);
    return super.forRoot(options);
  }
}
