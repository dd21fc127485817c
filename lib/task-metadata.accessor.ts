import type { Backoff, ScheduleTiming } from './core/index.js';
import { SCHEDULE_METADATA, TASK_METADATA } from './delayed.constants.js';
import type { ScheduleMetadataOptions } from './schedule.decorators.js';
import type { TaskOptions } from './task.decorator.js';

/** What `@Task()` says about one method, with the default name filled in. */
export interface TaskMetadata {
  readonly name: string;
  readonly queue: string | undefined;
  readonly retry: number;
  readonly backoff: Backoff | undefined;
  readonly timeout: number | undefined;
  /** How tracked calls of it keep their outcome (`call()`), unless the call says otherwise. */
  readonly result: { readonly ttl?: number; readonly stack?: boolean } | undefined;
}

/** What `@Every()`/`@Cron()` say about one method, with the default name filled in. */
export interface ScheduleMetadata {
  /** The schedule's name: given, or the task's name. */
  readonly name: string;
  readonly timing: ScheduleTiming;
  readonly neverSkip: boolean;
}

function methodOf(
  type: { readonly prototype: unknown },
  method: string,
): ((...args: unknown[]) => unknown) | undefined {
  const target = (type.prototype as Record<string, unknown> | undefined)?.[method];
  return typeof target === 'function' ? (target as (...args: unknown[]) => unknown) : undefined;
}

/**
 * Reads `@Task()` metadata straight from a class, so a producer can name a handler's task
 * without the class being a provider in its app. A method with only `@Every()` or `@Cron()`
 * is a task with the defaults.
 */
export function getTaskMetadata(
  type: { readonly prototype: unknown; readonly name: string },
  method: string,
): TaskMetadata | undefined {
  const target = methodOf(type, method);
  if (target === undefined) return undefined;
  let options = Reflect.getMetadata(TASK_METADATA, target) as TaskOptions | undefined;
  if (options === undefined) {
    if (Reflect.getMetadata(SCHEDULE_METADATA, target) === undefined) return undefined;
    options = {};
  }
  return {
    name: options.name ?? `${type.name}:${method}`,
    queue: options.queue,
    retry: options.retry ?? 0,
    backoff: options.backoff,
    timeout: options.timeout,
    result: options.result,
  };
}

/** Reads `@Every()`/`@Cron()` metadata of a method; undefined if it has none. */
export function getScheduleMetadata(
  type: { readonly prototype: unknown; readonly name: string },
  method: string,
): ScheduleMetadata | undefined {
  const target = methodOf(type, method);
  if (target === undefined) return undefined;
  const options = Reflect.getMetadata(SCHEDULE_METADATA, target) as
    ScheduleMetadataOptions | undefined;
  if (options === undefined) return undefined;
  return {
    name: options.name ?? getTaskMetadata(type, method)!.name,
    timing: options.timing,
    neverSkip: options.neverSkip,
  };
}
