import type { TextMapGetter } from '@opentelemetry/api';

/** The key of a task's options map (its fifth element) under which its trace context travels. */
export const TRACE_CONTEXT_KEY = 'trace';

/**
 * A trace context as the registered propagator writes it: header name to value. With the
 * W3C propagator, `{ traceparent, tracestate? }` (plus `baggage` with the baggage one).
 */
export type TraceCarrier = Record<string, string>;

/** The carrier a task brought in its options map, if it has one. */
export function traceCarrierOf(
  options: Readonly<Record<string, unknown>> | undefined,
): Readonly<Record<string, unknown>> | undefined {
  const carrier = options?.[TRACE_CONTEXT_KEY];
  if (
    carrier === null ||
    typeof carrier !== 'object' ||
    Array.isArray(carrier) ||
    ArrayBuffer.isView(carrier)
  ) {
    return undefined;
  }
  return carrier as Record<string, unknown>;
}

/**
 * Reads a carrier decoded from task bytes: only string values of its own keys count (the
 * bytes may come from anywhere, so nothing else is trusted to be a header).
 */
export const carrierGetter: TextMapGetter<Readonly<Record<string, unknown>>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    if (!Object.hasOwn(carrier, key)) return undefined;
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
};
