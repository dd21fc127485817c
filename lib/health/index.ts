// A @nestjs/terminus health indicator, at 'nestjs-delayed/health'. A separate entry point:
// @nestjs/terminus (an optional peer) is loaded only by apps that import it.
export {
  DelayedHealthIndicator,
  type DelayedHealthDetails,
  type QueueHealthDetails,
} from './delayed-health.indicator.js';
export { DelayedHealthModule } from './health.module.js';
export { DEFAULT_HEALTH_TIMEOUT, type DelayedHealthCheckOptions } from './health-check.options.js';
