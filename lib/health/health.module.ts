import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DelayedHealthIndicator } from './delayed-health.indicator.js';

/**
 * Provides DelayedHealthIndicator. Needs DelayedModule (global by default) in the app, and
 * TerminusModule where your health controller is (for HealthCheckService).
 */
@Module({
  imports: [TerminusModule],
  providers: [DelayedHealthIndicator],
  exports: [DelayedHealthIndicator],
})
export class DelayedHealthModule {}
