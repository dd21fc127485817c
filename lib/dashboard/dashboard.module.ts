import { type DynamicModule, Module } from '@nestjs/common';
import { type HandlerRegistry, InvalidOptionsError } from '../core/index.js';
import {
  DELAYED_CONNECTION,
  DELAYED_HANDLERS,
  DELAYED_RESOLVED_OPTIONS,
} from '../delayed.constants.js';
import type { DelayedConnection } from '../delayed.host.js';
import type { ResolvedDelayedOptions } from '../delayed.options.js';
import { mountDashboardController } from './dashboard.controller.js';
import { type DashboardOptions, resolveDashboardOptions } from './dashboard.options.js';
import { QueueDashboard } from './queue-dashboard.js';

/**
 * A dashboard of the delayed queues, mounted where you say: a page (no build step, nothing
 * loaded from elsewhere) and the JSON API it polls. Nothing of it exists, no route and no
 * Redis read, unless a module imports `register()`; it needs `DelayedModule` in the app and
 * uses its connection.
 *
 * ```ts
 * @Module({
 *   imports: [
 *     DelayedModule.forRoot({ connection: process.env.REDIS_URL }),
 *     DelayedDashboardModule.register({ path: 'admin/queues', guards: [AdminGuard] }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
@Module({})
export class DelayedDashboardModule {
  /** One dashboard at `options.path`; call it again with another path for a second one. */
  static register(options: DashboardOptions): DynamicModule {
    const settings = resolveDashboardOptions(options);
    // Per mount, so that two mounts are two modules with a dashboard each.
    const token = Symbol(`nestjs-delayed:dashboard:/${settings.path}`);
    return {
      module: DelayedDashboardModule,
      imports: [...settings.imports],
      controllers: [mountDashboardController(settings, token)],
      providers: [
        {
          provide: token,
          useFactory: (
            connection: DelayedConnection | undefined,
            delayed: ResolvedDelayedOptions | undefined,
            handlers: HandlerRegistry | undefined,
          ) => {
            // Optional only to fail with a message that says what is missing.
            if (connection === undefined || delayed === undefined || handlers === undefined) {
              throw new InvalidOptionsError(
                'DelayedDashboardModule shows the queues of DelayedModule: import DelayedModule.forRoot() (or forRootAsync()) in the app too',
              );
            }
            return new QueueDashboard(settings, connection, delayed, handlers);
          },
          inject: [
            { token: DELAYED_CONNECTION, optional: true },
            { token: DELAYED_RESOLVED_OPTIONS, optional: true },
            { token: DELAYED_HANDLERS, optional: true },
          ],
        },
      ],
    };
  }
}
