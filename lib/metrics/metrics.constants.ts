/** Token of the options given to DelayedMetricsModule.forRoot / made by forRootAsync. */
export const DELAYED_METRICS_OPTIONS = Symbol('nestjs-delayed:metrics-options');
