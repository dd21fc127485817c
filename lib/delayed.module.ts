import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { DelayedEventsExplorer } from './delayed-events.explorer.js';
import { DelayedExplorer } from './delayed.explorer.js';
import { DelayedHost } from './delayed.host.js';
import { ConfigurableModuleClass } from './delayed.module-definition.js';

/**
 * The delayed task queue for Nest.
 *
 * ```ts
 * @Module({ imports: [DelayedModule.forRoot({ connection: 'redis://localhost:6379' })] })
 * export class AppModule {}
 * ```
 * or, with options from elsewhere:
 * ```ts
 * DelayedModule.forRootAsync({
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ connection: config.get('REDIS_URL') }),
 * })
 * ```
 */
@Module({
  imports: [DiscoveryModule],
  providers: [DelayedExplorer, DelayedEventsExplorer, DelayedHost],
})
export class DelayedModule extends ConfigurableModuleClass {}
