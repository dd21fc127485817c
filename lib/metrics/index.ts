// Prometheus metrics, at 'nestjs-delayed/metrics'. A separate entry point: prom-client (an
// optional peer) is loaded only by apps that import it.
export { DelayedMetrics } from './delayed-metrics.js';
export { DelayedMetricsModule } from './metrics.module.js';
export {
  DELAYED_METRICS_ASYNC_OPTIONS_TYPE,
  DELAYED_METRICS_OPTIONS_TYPE,
} from './metrics.module-definition.js';
export {
  DEFAULT_DURATION_BUCKETS,
  type DelayedMetricsExtras,
  type DelayedMetricsOptions,
} from './metrics.options.js';
export { UNREADABLE_TASK, UNREGISTERED_TASK } from './task-tallies.js';
