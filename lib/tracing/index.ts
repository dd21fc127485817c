// OpenTelemetry tracing, at 'nestjs-delayed/tracing': the only entry that loads
// @opentelemetry/api (an optional peer dependency), so apps that do not trace never need it.
export { DelayedTracingModule } from './delayed-tracing.module.js';
export {
  DELAYED_TRACING_ASYNC_OPTIONS_TYPE,
  DELAYED_TRACING_OPTIONS,
  DELAYED_TRACING_OPTIONS_TYPE,
} from './delayed-tracing.module-definition.js';
export {
  type DelayedTracingOptions,
  type TaskSpanOptions,
  type TracePropagationFilter,
} from './tracing.options.js';
export { TRACE_CONTEXT_KEY, type TraceCarrier } from './trace-carrier.js';
export { traceContextInjector } from './trace-context-injector.js';
export {
  MESSAGING_SYSTEM,
  TASK_SPAN_ATTRIBUTES,
  type TaskRunOutcome,
  tracingInstrument,
} from './tracing-instrument.js';
